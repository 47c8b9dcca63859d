import BNNDistributed
import Foundation
import Testing

@Suite struct PeerHeartbeatTests {
    @Test func recordsRoundTripThroughTheAllGatherLayout() {
        let peers = [
            PeerHeartbeat.Peer(rank: 0, host: "bnn-host0", endpoints: [.init(address: 0x0AD5_0001, port: 40001)]),
            PeerHeartbeat.Peer(rank: 1, host: String(repeating: "h", count: 70),
                               endpoints: (0..<10).map { .init(address: 0x0AD5_0100 + UInt32($0), port: 5000 + UInt16($0)) }),
        ]
        let records = peers.flatMap(PeerHeartbeat.encode)
        #expect(records.count == 2 * PeerHeartbeat.recordSize)
        let decoded = PeerHeartbeat.decode(records: records)
        #expect(decoded[0] == peers[0])
        // Host names are cut at 64 bytes and endpoints at 8.
        #expect(decoded[1].host == String(repeating: "h", count: 64))
        #expect(decoded[1].endpoints == Array(peers[1].endpoints.prefix(8)))
    }

    @Test func namesThePeerThatWentSilent() async throws {
        let interval = 0.05
        let a = try PeerHeartbeat(rank: 0, interval: interval)
        let b = try PeerHeartbeat(rank: 1, interval: interval)
        // Same host name: the peers reach each other over the loopback address.
        let peers = [PeerHeartbeat.Peer(rank: 0, host: "testhost", endpoints: [.init(address: 0x7F00_0001, port: a.port)]),
                     PeerHeartbeat.Peer(rank: 1, host: "testhost", endpoints: [.init(address: 0x7F00_0001, port: b.port)])]
        a.start(peers: peers, host: "testhost")
        b.start(peers: peers, host: "testhost")
        try await waitUntil { (a.silence(of: 1) ?? 9) < 2 * interval && (b.silence(of: 0) ?? 9) < 2 * interval }
        #expect(a.silenceReport(olderThan: 0.5).hasPrefix("every peer's heartbeat still arrives"))
        #expect(a.silence(of: 0) == nil, "a rank is not its own peer")
        b.stop()
        try await waitUntil { (a.silence(of: 1) ?? 0) > 0.5 }
        let report = a.silenceReport(olderThan: 0.5)
        #expect(report.hasPrefix("no heartbeat from rank 1 on testhost for"), "\(report)")
        a.stop()
    }

    /// Polls `condition` every 10 ms for at most 10 s.
    private func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = Date().addingTimeInterval(10)
        while !condition() {
            try #require(Date() < deadline, "condition not met within 10 s")
            try await Task.sleep(nanoseconds: 10_000_000)
        }
    }
}
