import Foundation
import Logging
import ShoalEngine

/// `--rpc`: the Transmission-compatible RPC server beside the session, from the run settings.
enum RemoteControl {
    struct Settings {
        var enabled: Bool
        var bind: [String]
        var port: Int
        var username: String?
        var passwordHash: String?
        var hostWhitelist: [String]
    }

    static func url(host: String, port: Int) -> String {
        "http://\(host.contains(":") ? "[\(host)]" : host):\(port)\(RPCServer.path)"
    }

    /// Nil when the RPC is off.
    static func start(settings: Settings, session: Session, logger: Logger) async throws -> RPCServer? {
        guard settings.enabled else { return nil }
        var credentials: RPCAccess.Credentials?
        switch (settings.username, settings.passwordHash) {
        case (let user?, let hash?): credentials = RPCAccess.Credentials(user: user, passwordHash: hash)
        case (nil, nil): credentials = nil
        default: throw RemoteControlError("rpc_username and rpc_password go together: set both or neither")
        }
        let access = RPCAccess(credentials: credentials, allowedHosts: Set(settings.hostWhitelist.map { $0.lowercased() }))
        let rpc = TransmissionRPC(
            session: session, sessionID: access.sessionID,
            fetch: { url in
                let response = try await HTTPClient.fetch(url, timeout: .seconds(30), maxBody: RPCServer.Limits().maxBody)
                guard response.status == 200 else { throw RemoteControlError("HTTP status \(response.status)") }
                return response.body
            },
            close: {
                logger.notice("rpc: session-close, shutting down")
                await session.shutdown()
            })
        let server = try await RPCServer.start(rpc: rpc, access: access, bind: settings.bind, port: settings.port, logger: logger)
        logger.info("rpc listening", metadata: ["addresses": "\(settings.bind)", "port": "\(server.port)",
                                                "auth": "\(credentials == nil ? "none" : "basic")"])
        return server
    }
}

struct RemoteControlError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

extension RunCommand {
    func remoteSettings(_ file: ConfigFile) -> RemoteControl.Settings {
        typealias S = RunSettings
        return RemoteControl.Settings(
            enabled: S.rpc.resolveWithDefault(rpc, file),
            bind: S.rpcBind.resolveWithDefault(rpcBind.isEmpty ? nil : rpcBind, file),
            port: S.rpcPort.resolveWithDefault(rpcPort, file),
            username: S.rpcUsername.resolve(rpcUsername, file),
            passwordHash: S.rpcPassword.resolve(rpcPassword, file),
            hostWhitelist: S.rpcHostWhitelist.resolveWithDefault(rpcHostWhitelist.isEmpty ? nil : rpcHostWhitelist, file))
    }
}
