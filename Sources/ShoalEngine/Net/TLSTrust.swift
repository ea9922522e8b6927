import Foundation
import NIOSSL
import Synchronization

/// Which certificates an `https://` server (a tracker, a `torrent-add` URL, a remote daemon)
/// may show: those the system trusts, or the bundle `SSL_CERT_FILE` names, as OpenSSL, curl and
/// Python read it (a private CA). The chain and the host name are always checked.
final class TLSTrust: Sendable {
    static let shared = TLSTrust(bundle: ProcessInfo.processInfo.environment["SSL_CERT_FILE"])

    let bundle: String?
    /// Made on first use: loading the system's store costs milliseconds, once per process.
    private let made = Mutex<NIOSSLContext?>(nil)

    init(bundle: String?) {
        self.bundle = bundle.flatMap { $0.isEmpty ? nil : $0 }
    }

    func context() throws -> NIOSSLContext {
        try made.withLock { made in
            if let made { return made }
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            if let bundle {
                guard FileManager.default.isReadableFile(atPath: bundle) else {
                    throw TLSSetupFailure(description: "SSL_CERT_FILE \(bundle) cannot be read")
                }
                configuration.trustRoots = .file(bundle)
            }
            let context = try NIOSSLContext(configuration: configuration)
            made = context
            return context
        }
    }

    /// BoringSSL's error stack said as a person would look for it.
    static func describe(_ error: NIOSSLError) -> String {
        let text = "\(error)"
        if text.contains("CERTIFICATE_VERIFY_FAILED") {
            return "TLS: the server's certificate is not trusted (CERTIFICATE_VERIFY_FAILED; a private CA can be named in SSL_CERT_FILE)"
        }
        return "TLS: \(text)"
    }
}

struct TLSSetupFailure: Error, CustomStringConvertible {
    let description: String
}
