// Enroll: the one-time code a supervisor issued (typed or scanned), the server address, and
// "Join site". The core enrolls and runs the first sync; its refusal is shown verbatim.

import Foundation

@MainActor
public final class EnrollViewModel: ViewModel {
    public var server: String { didSet { changed() } }
    public var code: String = "" { didSet { changed() } }
    public var deviceName: String { didSet { changed() } }
    public private(set) var isJoining = false { didSet { changed() } }
    public private(set) var error: ShownError? { didSet { changed() } }

    private let dir: String
    private let clock: Clock

    /// `dir`: the device folder (Application Support/proofline on the phone).
    public init(dir: String, server: String = "", deviceName: String = "", clock: @escaping Clock = systemClock) {
        self.dir = dir
        self.server = server
        self.deviceName = deviceName
        self.clock = clock
    }

    /// "Join site" is enabled once there is a code and an address, and no join is running.
    public var canJoin: Bool {
        !isJoining && !normalizedCode.isEmpty && !trimmed(server).isEmpty
    }

    /// The code as the server issues it (`XXXX-XXXX-XXXX`): case and spaces do not matter.
    public var normalizedCode: String { EnrollLink.normalize(code) }

    /// A scanned QR code: `proofline://enroll?server=…&code=…`, an https link with the same
    /// query, or the bare code (which fills only the code).
    public func scanned(_ payload: String) {
        let link = EnrollLink.parse(payload)
        code = link.code
        if let address = link.server { server = address }
    }

    /// Enrolls this phone; the session on success, nil (with `error` set) otherwise.
    public func join() async -> ProoflineSession? {
        guard canJoin else { return nil }
        isJoining = true
        error = nil
        defer { isJoining = false }
        let (dir, address, oneTimeCode, name, now) = (self.dir, trimmed(self.server), self.normalizedCode, trimmed(self.deviceName), self.clock())
        do {
            let clock = self.clock
            return try await Task.detached(priority: .userInitiated) {
                let device = try Device.enroll(
                    dir: dir, server: address, code: oneTimeCode, platform: "ios",
                    deviceName: name.isEmpty ? nil : name, now: now)
                return ProoflineSession(device: device, clock: clock)
            }.value
        } catch {
            self.error = ShownError(error)
            return nil
        }
    }

    private func trimmed(_ text: String) -> String {
        text.trimmingCharacters(in: .whitespacesAndNewlines)
    }
}

/// What an enrollment QR code holds (the same forms as the Android app, docs/screens.md).
public struct EnrollLink: Equatable, Sendable {
    public let code: String
    public let server: String?

    public static func parse(_ payload: String) -> EnrollLink {
        let text = payload.trimmingCharacters(in: .whitespacesAndNewlines)
        if let components = URLComponents(string: text), components.scheme != nil,
           let items = components.queryItems,
           let code = items.first(where: { $0.name == "code" })?.value
        {
            let server = items.first { $0.name == "server" }?.value?
                .trimmingCharacters(in: .whitespaces)
            return EnrollLink(code: normalize(code), server: (server?.isEmpty ?? true) ? nil : server)
        }
        return EnrollLink(code: normalize(text), server: nil)
    }

    /// Upper case, spaces dropped; 12 letters and digits without dashes get them.
    public static func normalize(_ code: String) -> String {
        let compact = code.trimmingCharacters(in: .whitespacesAndNewlines).uppercased()
            .replacingOccurrences(of: " ", with: "")
        guard compact.count == 12, compact.allSatisfy({ $0.isLetter || $0.isNumber }) else { return compact }
        let chars = Array(compact)
        return stride(from: 0, to: 12, by: 4).map { String(chars[$0..<$0 + 4]) }.joined(separator: "-")
    }
}
