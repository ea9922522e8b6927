import Crypto
import Foundation

/// Who may use the RPC, decided from a request's headers alone (pure: the server only carries
/// the verdict out). The checks run in Transmission's order, so remotes see the statuses they
/// expect: credentials (401), then the Host header (421), then the session id (409).
public struct RPCAccess: Sendable {
    public enum Verdict: Equatable, Sendable {
        case allowed
        /// 401 with `WWW-Authenticate`.
        case unauthorized
        /// 421: a Host header naming none of ours, the mark of a DNS-rebinding page.
        case misdirected(host: String)
        /// 409 with the current `X-Transmission-Session-Id`: the CSRF handshake every remote does first.
        case needsSessionID
    }

    public var sessionID: String
    public var credentials: Credentials?
    /// Host names (lower case, without port) a browser may reach us by. IP literals always pass,
    /// as in Transmission: rebinding needs a name.
    public var allowedHosts: Set<String>

    public init(sessionID: String = RPCAccess.newSessionID(), credentials: Credentials? = nil,
                allowedHosts: Set<String> = ["localhost", "localhost."]) {
        self.sessionID = sessionID
        self.credentials = credentials
        self.allowedHosts = allowedHosts
    }

    public static func newSessionID() -> String {
        var generator = SystemRandomNumberGenerator()
        return (0..<24).map { _ in String("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789".randomElement(using: &generator)!) }
            .joined()
    }

    /// `header(name)` returns a header's value (names compared case-insensitively by the caller).
    public func verdict(header: (String) -> String?) -> Verdict {
        if let credentials {
            guard let given = header("authorization").flatMap(Self.basicCredentials), credentials.matches(user: given.user, password: given.password)
            else { return .unauthorized }
        } else if let host = header("host") {
            // With a password, a rebinding page cannot get in anyway; without one the name must be ours.
            let name = Self.hostName(host)
            if !allowedHosts.contains(name) && !AddressLiteral.matches(name) { return .misdirected(host: host) }
        }
        guard header("x-transmission-session-id") == sessionID else { return .needsSessionID }
        return .allowed
    }

    /// `Basic base64(user:password)`.
    static func basicCredentials(_ value: String) -> (user: String, password: String)? {
        let parts = value.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "basic",
              let decoded = Data(base64Encoded: String(parts[1]).trimmingCharacters(in: .whitespaces)),
              let text = String(data: decoded, encoding: .utf8), let colon = text.firstIndex(of: ":")
        else { return nil }
        return (String(text[..<colon]), String(text[text.index(after: colon)...]))
    }

    /// The name of `Host: name:port` or `Host: [v6]:port`, lower-cased.
    static func hostName(_ host: String) -> String {
        let trimmed = host.trimmingCharacters(in: .whitespaces).lowercased()
        if trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") {
            return String(trimmed[trimmed.index(after: trimmed.startIndex)..<close])
        }
        if let colon = trimmed.lastIndex(of: ":"), trimmed.firstIndex(of: ":") == colon { return String(trimmed[..<colon]) }
        return trimmed
    }
}

extension RPCAccess {
    /// A user name and a salted SHA-256 of the password; the password itself is never kept.
    public struct Credentials: Sendable, Equatable {
        public var user: String
        /// `sha256:SALT:HEX`, as `shoal config --hash-password` prints it.
        public var passwordHash: String

        public init(user: String, passwordHash: String) {
            self.user = user
            self.passwordHash = passwordHash
        }

        public static func hash(_ password: String, salt: String = RPCAccess.newSessionID()) -> String {
            "sha256:\(salt):" + digest(salt: salt, password: password)
        }

        /// Whether `text` is a hash `hash(_:)` made (and so not a password pasted by mistake).
        public static func isHash(_ text: String) -> Bool {
            let parts = text.split(separator: ":", omittingEmptySubsequences: false)
            return parts.count == 3 && parts[0] == "sha256" && !parts[1].isEmpty && parts[2].count == 64
                && parts[2].allSatisfy(\.isHexDigit)
        }

        func matches(user: String, password: String) -> Bool {
            let parts = passwordHash.split(separator: ":", omittingEmptySubsequences: false)
            guard parts.count == 3 else { return false }
            let expected = Array(parts[2].utf8)
            let actual = Array(Self.digest(salt: String(parts[1]), password: password).utf8)
            // Compared without an early exit, so the time taken says nothing about the hash.
            var difference = UInt8(expected.count == actual.count ? 0 : 1)
            for (a, b) in zip(expected, actual) { difference |= a ^ b }
            return difference == 0 && user == self.user
        }

        private static func digest(salt: String, password: String) -> String {
            SHA256.hash(data: Array((salt + password).utf8)).map { String(format: "%02x", $0) }.joined()
        }
    }
}
