@testable import ShoalEngine
import Testing

/// How the HTTP client reads the URLs it is given: scheme, host (names, IPv4, bracketed
/// IPv6), port (each scheme's own by default) and the target with its query untouched.
@Suite("HTTP client URLs")
struct HTTPClientURLTests {
    @Test func schemesHostsAndPorts() throws {
        #expect(try HTTPClient.split("http://tracker.example/announce?x=%20")
            == .init(tls: false, host: "tracker.example", port: 80, target: "/announce?x=%20"))
        #expect(try HTTPClient.split("HTTPS://tracker.example/a") == .init(tls: true, host: "tracker.example", port: 443, target: "/a"))
        #expect(try HTTPClient.split("https://127.0.0.1:8443?q") == .init(tls: true, host: "127.0.0.1", port: 8443, target: "/?q"))
        #expect(try HTTPClient.split("https://[::1]:9/x") == .init(tls: true, host: "::1", port: 9, target: "/x"))
        #expect(try HTTPClient.split("https://[::1]") == .init(tls: true, host: "::1", port: 443, target: "/"))
    }

    @Test func badURLsAreRefusedWithTheReason() {
        #expect(throws: HTTPClient.Failure.self) { try HTTPClient.split("ftp://host/x") }
        #expect(throws: HTTPClient.Failure.self) { try HTTPClient.split("https://host:0/x") }
        #expect(throws: HTTPClient.Failure.self) { try HTTPClient.split("https://host:99999/x") }
        #expect(throws: HTTPClient.Failure.self) { try HTTPClient.split("https:///x") }
        #expect((try? HTTPClient.split("udp://host:1")) == nil)
    }

    @Test func addressesGoWithoutSNI() {
        #expect(AddressLiteral.matches("127.0.0.1") && AddressLiteral.matches("::1") && AddressLiteral.matches("2001:db8::1"))
        #expect(!AddressLiteral.matches("localhost") && !AddressLiteral.matches("tracker.example") && !AddressLiteral.matches("1.2.3"))
    }

    @Test func anUnreadableBundleIsSaidSo() {
        let trust = TLSTrust(bundle: "/nonexistent/ca.pem")
        #expect {
            _ = try trust.context()
        } throws: { error in
            "\(error)".contains("SSL_CERT_FILE /nonexistent/ca.pem cannot be read")
        }
    }
}
