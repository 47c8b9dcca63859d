import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A side channel on which the ranks of a job tell each other, once a second, that they are alive and
/// reachable, so that a collective that hangs can be explained: which rank, on which host, went silent.
///
/// MPI does not say which peer a blocked collective waits for. When a link goes down, every rank
/// waits; ``CollectiveWatchdog`` ends the job after its limit, and the heartbeat turns "the all-reduce
/// has not completed" into "no heartbeat from rank 1 on bnn-host1 for 21 s". Each rank sends a
/// 24-byte UDP datagram to every peer's addresses every ``interval`` seconds (to the IPv4 addresses of
/// the peer's network interfaces, and to the loopback address for peers on the same host) and records
/// when it last heard from each. The cost is negligible: a few datagrams per second.
///
/// ```swift
/// let heartbeat = try PeerHeartbeat(rank: 0)
/// let peers = PeerHeartbeat.decode(records: gatheredRecords)   // every rank's `record(host:)`
/// heartbeat.start(peers: peers)
/// print(heartbeat.silenceReport(olderThan: 3))
/// ```
public final class PeerHeartbeat: @unchecked Sendable {
    /// One UDP address of a rank (IPv4 address and port, host byte order).
    public struct Endpoint: Sendable, Hashable {
        /// The IPv4 address, host byte order (`0x7F00_0001` is 127.0.0.1).
        public var address: UInt32
        /// The UDP port, host byte order.
        public var port: UInt16

        /// An endpoint.
        public init(address: UInt32, port: UInt16) {
            self.address = address
            self.port = port
        }
    }

    /// What a rank tells the others about itself: its rank, host name and addresses.
    public struct Peer: Sendable, Equatable {
        /// The rank in the job.
        public var rank: Int
        /// The host name the rank runs on.
        public var host: String
        /// The addresses its heartbeat socket listens on.
        public var endpoints: [Endpoint]

        /// A peer.
        public init(rank: Int, host: String, endpoints: [Endpoint]) {
            self.rank = rank
            self.host = host
            self.endpoints = endpoints
        }
    }

    /// Bytes of one ``record(host:)``: the size every rank contributes to the all-gather.
    public static let recordSize = 128
    private static let magic: UInt32 = 0x424E_4E48  // "BNNH"
    private static let maximumEndpoints = 8
    private static let maximumHostBytes = 64
    private static let loopback: UInt32 = 0x7F00_0001

    /// This process's rank.
    public let rank: Int
    /// Seconds between two heartbeats sent to each peer.
    public let interval: Double
    /// The UDP port this rank listens on.
    public let port: UInt16
    private let socket: Int32
    private let lock = NSLock()
    private var peers: [Peer] = []
    private var lastHeard: [Int: UInt64] = [:]
    private var startNanoseconds: UInt64 = 0
    private var running = false
    private var thread: Thread?

    /// Opens a UDP socket on every interface, on a port the system picks.
    ///
    /// - Throws: ``DistributedError/initializationFailed(reason:)`` when the socket cannot be opened.
    public init(rank: Int, interval: Double = 1) throws {
        self.rank = rank
        self.interval = interval
        #if canImport(Glibc)
        let descriptor = Glibc.socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        #else
        let descriptor = Darwin.socket(AF_INET, SOCK_DGRAM, 0)
        #endif
        guard descriptor >= 0 else {
            throw DistributedError.initializationFailed(reason: "heartbeat: cannot open a UDP socket (errno \(errno))")
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr = in_addr(s_addr: INADDR_ANY)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let named = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(descriptor, $0, &length) }
        }
        guard bound == 0, named == 0 else {
            close(descriptor)
            throw DistributedError.initializationFailed(reason: "heartbeat: cannot bind a UDP port (errno \(errno))")
        }
        socket = descriptor
        port = UInt16(bigEndian: address.sin_port)
    }

    deinit {
        stop()
        close(socket)
    }

    /// The addresses of this rank's socket: the IPv4 address of every interface that is up and not a
    /// loopback (at most 8), with ``port``.
    public var localEndpoints: [Endpoint] {
        var list: UnsafeMutablePointer<ifaddrs>?
        guard getifaddrs(&list) == 0 else { return [] }
        defer { freeifaddrs(list) }
        var endpoints: [Endpoint] = []
        var entry = list
        while let current = entry {
            defer { entry = current.pointee.ifa_next }
            let flags = Int32(current.pointee.ifa_flags)
            guard let socketAddress = current.pointee.ifa_addr, Int32(socketAddress.pointee.sa_family) == AF_INET,
                  flags & Int32(IFF_UP) != 0, flags & Int32(IFF_LOOPBACK) == 0 else { continue }
            let ipv4 = socketAddress.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { $0.pointee.sin_addr.s_addr }
            let endpoint = Endpoint(address: UInt32(bigEndian: ipv4), port: port)
            if !endpoints.contains(endpoint) { endpoints.append(endpoint) }
        }
        return Array(endpoints.prefix(Self.maximumEndpoints))
    }

    /// This rank's record for the all-gather: ``recordSize`` bytes holding the rank, `host` (at most
    /// 64 bytes of it) and ``localEndpoints``.
    public func record(host: String) -> [UInt8] {
        Self.encode(Peer(rank: rank, host: host, endpoints: localEndpoints))
    }

    /// The ``recordSize`` bytes that describe `peer` (little-endian: rank, endpoint count, endpoints,
    /// host-name length, host name).
    public static func encode(_ peer: Peer) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: recordSize)
        func put<T: FixedWidthInteger>(_ value: T, at offset: Int) {
            withUnsafeBytes(of: value.littleEndian) { for (i, byte) in $0.enumerated() { bytes[offset + i] = byte } }
        }
        let endpoints = peer.endpoints.prefix(maximumEndpoints)
        put(UInt32(truncatingIfNeeded: peer.rank), at: 0)
        put(UInt32(endpoints.count), at: 4)
        for (i, endpoint) in endpoints.enumerated() {
            put(endpoint.address, at: 8 + 6 * i)
            put(endpoint.port, at: 12 + 6 * i)
        }
        let name = Array(peer.host.utf8.prefix(maximumHostBytes))
        put(UInt32(name.count), at: 56)
        bytes.replaceSubrange(60..<(60 + name.count), with: name)
        return bytes
    }

    /// The peers described by the concatenated records of an all-gather (``recordSize`` bytes each);
    /// a malformed record yields a peer with no endpoints.
    public static func decode(records: [UInt8]) -> [Peer] {
        func get<T: FixedWidthInteger>(_: T.Type, _ record: ArraySlice<UInt8>, _ offset: Int) -> T {
            var value: T = 0
            withUnsafeMutableBytes(of: &value) { raw in
                for i in 0..<MemoryLayout<T>.size { raw[i] = record[record.startIndex + offset + i] }
            }
            return T(littleEndian: value)
        }
        return stride(from: 0, to: records.count - recordSize + 1, by: recordSize).map { start in
            let record = records[start..<(start + recordSize)]
            let count = min(Int(get(UInt32.self, record, 4)), maximumEndpoints)
            let endpoints = (0..<count).map {
                Endpoint(address: get(UInt32.self, record, 8 + 6 * $0), port: get(UInt16.self, record, 12 + 6 * $0))
            }
            let nameLength = min(Int(get(UInt32.self, record, 56)), maximumHostBytes)
            let name = String(decoding: record[(record.startIndex + 60)..<(record.startIndex + 60 + nameLength)], as: UTF8.self)
            return Peer(rank: Int(get(UInt32.self, record, 0)), host: name, endpoints: endpoints)
        }
    }

    /// Starts sending to and listening for `peers` (entries with this rank are left out) on a
    /// background thread. Peers on this host (the same host name as `host`) are also reached over
    /// the loopback address.
    public func start(peers: [Peer], host: String = DistributedRuntime.hostName) {
        lock.lock()
        self.peers = peers.filter { $0.rank != rank }.map { peer in
            guard peer.host == host else { return peer }
            var local = peer
            local.endpoints.append(Endpoint(address: Self.loopback, port: peer.endpoints.first?.port ?? 0))
            return local
        }
        startNanoseconds = DispatchTime.now().uptimeNanoseconds
        lastHeard = [:]
        running = true
        lock.unlock()
        let thread = Thread { [weak self] in self?.run() }
        thread.name = "bnn.heartbeat"
        self.thread = thread
        thread.start()
    }

    /// Stops the background thread (it ends within one ``interval``).
    public func stop() {
        lock.lock()
        running = false
        lock.unlock()
    }

    /// Seconds since `peer` was last heard from (since ``start(peers:host:)`` when never), `nil`
    /// for a rank that is not a peer.
    public func silence(of peer: Int) -> Double? {
        lock.lock()
        defer { lock.unlock() }
        guard peers.contains(where: { $0.rank == peer }) else { return nil }
        return Double(DispatchTime.now().uptimeNanoseconds - (lastHeard[peer] ?? startNanoseconds)) / 1e9
    }

    /// One sentence for an error message: the peers not heard from for more than `seconds`
    /// (`no heartbeat from rank 1 on bnn-host1 for 21 s`), or that every peer was heard from.
    public func silenceReport(olderThan seconds: Double) -> String {
        lock.lock()
        let known = peers
        lock.unlock()
        let silent = known.compactMap { peer -> String? in
            guard let quiet = silence(of: peer.rank), quiet > seconds else { return nil }
            return String(format: "rank %d on %@ for %.0f s", peer.rank, peer.host, quiet)
        }
        if silent.isEmpty {
            return "every peer's heartbeat still arrives (within \(Int(seconds.rounded(.up))) s): the peers are alive "
                + "and reachable, so one of them is stuck rather than gone"
        }
        return "no heartbeat from " + silent.joined(separator: ", ") + ": that rank, its host or its link is down"
    }

    private func run() {
        var sequence: UInt64 = 0
        var nextSend = DispatchTime.now().uptimeNanoseconds
        let step = UInt64(interval * 1e9)
        while true {
            lock.lock()
            let (active, targets) = (running, peers)
            lock.unlock()
            guard active else { return }
            let now = DispatchTime.now().uptimeNanoseconds
            if now >= nextSend {
                sequence += 1
                for peer in targets {
                    for endpoint in peer.endpoints { send(to: endpoint, peer: peer.rank, sequence: sequence) }
                }
                nextSend = now + step
            }
            receive(waitingMilliseconds: Int32(max(1, min(100, (nextSend - min(nextSend, now)) / 1_000_000))))
        }
    }

    private func send(to endpoint: Endpoint, peer: Int, sequence: UInt64) {
        var packet = (Self.magic.littleEndian, UInt32(truncatingIfNeeded: rank).littleEndian,
                      UInt32(truncatingIfNeeded: peer).littleEndian, UInt32(0), sequence.littleEndian)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = endpoint.port.bigEndian
        address.sin_addr = in_addr(s_addr: endpoint.address.bigEndian)
        _ = withUnsafeBytes(of: &packet) { bytes in
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    sendto(socket, bytes.baseAddress, bytes.count, Int32(MSG_DONTWAIT), $0, socklen_t(MemoryLayout<sockaddr_in>.size))
                }
            }
        }
    }

    private func receive(waitingMilliseconds: Int32) {
        var descriptor = pollfd(fd: socket, events: Int16(POLLIN), revents: 0)
        guard poll(&descriptor, 1, waitingMilliseconds) > 0 else { return }
        var packet = (UInt32(0), UInt32(0), UInt32(0), UInt32(0), UInt64(0))
        while true {
            let received = withUnsafeMutableBytes(of: &packet) { recv(socket, $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard received == MemoryLayout.size(ofValue: packet) else { return }
            let (magic, sender, target) = (UInt32(littleEndian: packet.0), Int(UInt32(littleEndian: packet.1)),
                                           Int(UInt32(littleEndian: packet.2)))
            guard magic == Self.magic, target == rank else { continue }
            lock.lock()
            if peers.contains(where: { $0.rank == sender }) { lastHeard[sender] = DispatchTime.now().uptimeNanoseconds }
            lock.unlock()
        }
    }
}
