import BNN
import BNNProgramSupport
import Foundation
import Testing

@Suite struct FlatYAMLTests {
    private func parse(_ text: String) throws -> FlatYAML { try FlatYAML(parsing: text, source: "test.yaml") }

    /// The error thrown by `body`, or `nil` when it does not throw.
    private func error(_ body: () throws -> Void) -> FlatYAMLError? {
        do { try body() } catch let error as FlatYAMLError { return error } catch { return nil }
        return nil
    }

    @Test func referenceConfigurationParsesUnchanged() throws {
        let url = try #require(Bundle.module.url(forResource: "birealnet34", withExtension: "yaml", subdirectory: "Fixtures"))
        let config = try FlatYAML(contentsOf: url)
        #expect(config.entries.count == 37)
        #expect(config.keys.first == "arch" && config.keys.last == "device_target")
        #expect(try config.string("arch") == "birealnet34")
        #expect(try config.string("data_url") == "../data/imagenet")
        #expect(try config.integer("num_classes") == 1000)
        #expect(config["auto_augment"] == .null)
        #expect(try config.string("auto_augment") == nil)
        #expect(try config.doubles("beta", count: 2) == [0.9, 0.999])
        #expect(config["clip_global_norm_value"] == .number(5))
        #expect(try config.double("clip_global_norm_value") == 5)
        #expect(try config.double("re_prob") == 0 && config["re_prob"] == .number(0))
        #expect(try config.double("min_lr") == 1e-6)
        #expect(try config.bool("is_dynamic_loss_scale") == true)
        #expect(try config.bool("with_ema") == false)
        #expect(try config.double("ema_decay") == 0.9999)
        #expect(try config.integer("epochs", in: 1...1000) == 300)
        #expect(try config.integer("batch_size") == 128)
        #expect(try config.string("amp_level") == "O1")
        #expect(try config.choice("optimizer", ["adam", "sgd"], default: "sgd") == "adam")
        #expect(config.entry("beta")?.line == 34)
        #expect(config.entry("beta")?.text == "[ 0.9, 0.999 ]")
        #expect(config.source.hasSuffix("Fixtures/birealnet34.yaml"))
        try config.validateKeys(config.keys)
    }

    @Test func scalarsAreTyped() throws {
        let config = try parse("""
            a: 5.
            b: .5
            c: 1e-6
            d: -3
            e: +2.5E+3
            f: true
            g: FALSE
            h: ~
            i: null
            j: "quoted # not a comment"   # a comment
            k: 'it''s'
            l: plain text with spaces
            m: don't  # apostrophe inside a plain scalar
            n: []
            o: [ "a, b", 'c', 3, null ]
            p: 1.2.3
            q: "tab\\tnewline\\n"
            r: http://example.com/a#b
            s: .inf
            """)
        #expect(config["a"] == .number(5) && config["b"] == .number(0.5) && config["c"] == .number(1e-6))
        #expect(config["d"] == .integer(-3) && config["e"] == .number(2500))
        #expect(config["f"] == .bool(true) && config["g"] == .bool(false))
        #expect(config["h"] == .null && config["i"] == .null)
        #expect(config["j"] == .string("quoted # not a comment"))
        #expect(config["k"] == .string("it's"))
        #expect(config["l"] == .string("plain text with spaces"))
        #expect(config["m"] == .string("don't"))
        #expect(config["n"] == .list([]))
        #expect(config["o"] == .list([.string("a, b"), .string("c"), .integer(3), .null]))
        #expect(config["p"] == .string("1.2.3"))
        #expect(config["q"] == .string("tab\tnewline\n"))
        #expect(config["r"] == .string("http://example.com/a#b"))
        #expect(config["s"] == .number(.infinity))
        #expect(try config.integer("a") == 5, "an integral number reads as an integer")
        #expect(try config.string("d") == "-3", "other scalars read as strings as written")
        #expect(try config.double("missing", default: 7) == 7)
        #expect(try config.double("h", default: 7) == 7, "null reads as absent")
        for value in [FlatYAMLValue.string("it's: #x"), .string("True"), .string(""), .string("5"), .number(1e-6),
                      .list([.string("a, b"), .null, .bool(true)])] {
            let reparsed = try parse("key: \(value)")
            #expect(reparsed["key"] == value, "description \(value) reads back")
        }
    }

    @Test func typeErrorsNameFileLineKeyAndExpectation() throws {
        let config = try parse("# header\nbeta: abc\nepochs: 3.5\nflag: yes\nlr: [1, 2]\nmode: fast\n")
        #expect(error { _ = try config.doubles("beta", count: 2) }?.description == "test.yaml:2: beta expects a list of 2 numbers, got 'abc'")
        #expect(error { _ = try config.integer("epochs") }?.description == "test.yaml:3: epochs expects an integer, got '3.5'")
        #expect(error { _ = try config.integer("beta", in: 1...10) }?.description == "test.yaml:2: beta expects an integer in 1...10, got 'abc'")
        #expect(error { _ = try config.bool("flag") }?.description == "test.yaml:4: flag expects a boolean (true or false), got 'yes'")
        #expect(error { _ = try config.double("lr") }?.description == "test.yaml:5: lr expects a number, got '[1, 2]'")
        #expect(error { _ = try config.doubles("lr", count: 3) }?.description == "test.yaml:5: lr expects a list of 3 numbers, got '[1, 2]'")
        #expect(error { _ = try config.string("lr") } != nil)
        #expect(error { _ = try config.choice("mode", ["slow", "exact"], default: "slow") }?.description
                == "test.yaml:6: mode expects one of slow, exact, got 'fast'")
        #expect(error { try config.requireKey("epoch") } == .missingKey(file: "test.yaml", key: "epoch"))
        #expect(error { try config.validateKeys(["beta", "epochs", "flag", "lr", "modes"]) }?.description
                == "test.yaml:6: unknown key 'mode' (did you mean 'modes'?)")
        #expect(error { try config.validateKeys(["beta", "epochs", "flag", "lr", "other"]) }
                == .unknownKey(file: "test.yaml", key: "mode", line: 6, suggestion: nil))
    }

    @Test func malformedFilesAreClearErrors() {
        func syntaxLine(_ text: String) -> Int? {
            if case .syntax(_, let line, _)? = error({ _ = try parse(text) }) { return line }
            return nil
        }
        #expect(error { _ = try parse("a: 1\nb: 2\na: 3\n") } == .duplicateKey(file: "test.yaml", key: "a", line: 3, firstLine: 1))
        #expect(error { _ = try parse("a: 1\njust text\n") }?.description == "test.yaml:2: expected 'key: value', got 'just text'")
        #expect(syntaxLine("model:\n  depth: 34\n") == 1, "an empty value (a nested mapping) is rejected at its key")
        #expect(syntaxLine("a: 1\n  b: 2\n") == 2, "indentation is nested YAML")
        #expect(syntaxLine("a: 1\n- item\n") == 2)
        #expect(syntaxLine("a: [1, 2\n") == 1)
        #expect(syntaxLine("a: [1, [2]]\n") == 1)
        #expect(syntaxLine("a: [1, , 2]\n") == 1)
        #expect(syntaxLine("a: {b: 1}\n") == 1)
        #expect(syntaxLine("a: \"open\n") == 1)
        #expect(syntaxLine("a: 'x' y\n") == 1)
        #expect(syntaxLine("a: &anchor 1\n") == 1)
        #expect(syntaxLine("a: b: c\n") == 1)
        #expect(syntaxLine("bad key: 1\n") == 1)
        #expect(error { _ = try FlatYAML(contentsOf: URL(fileURLWithPath: "/nonexistent/x.yaml")) }.map {
            if case .unreadable(let file, _) = $0 { return file == "/nonexistent/x.yaml" } else { return false }
        } == true)
        #expect((try? parse("\u{FEFF}# bom\r\na: 1\r\n\n   \n# end"))?.entries == [FlatYAML.Entry(key: "a", value: .integer(1), text: "1", line: 2)])
    }
}
