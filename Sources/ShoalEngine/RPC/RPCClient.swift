import Foundation
import ShoalCore

/// A client of Transmission's RPC (Shoal's daemon, or transmission-daemon): does the session-id
/// handshake and Basic authentication, and turns a `result` other than "success" into an error.
public actor RPCClient {
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public enum Kind: Sendable { case unreachable, unauthorized, refused, method }
        public let kind: Kind
        public let description: String
    }

    public nonisolated let url: String
    let authorization: String?
    let timeout: Duration
    var sessionID = ""

    /// `url` as `http://HOST:PORT/transmission/rpc`; a bare `HOST:PORT` or port gets the rest.
    public init(url: String, user: String? = nil, password: String? = nil, timeout: Duration = .seconds(10)) {
        self.url = Self.normalized(url)
        self.authorization = user.map { "Basic " + Data("\($0):\(password ?? "")".utf8).base64EncodedString() }
        self.timeout = timeout
    }

    static func normalized(_ text: String) -> String {
        var url = text
        if Int(url) != nil { url = "127.0.0.1:" + url }
        if !url.lowercased().hasPrefix("http://") && !url.lowercased().hasPrefix("https://") { url = "http://" + url }
        let afterScheme = url.range(of: "://").map { url[$0.upperBound...] } ?? Substring(url)
        if !afterScheme.contains("/") { url += RPCServer.path }
        return url
    }

    /// One method call; the response's `arguments`.
    public func call(_ method: String, _ arguments: [String: JSONValue] = [:]) async throws(Failure) -> [String: JSONValue] {
        let body = JSONWriter.bytes(["method": .string(method), "arguments": .object(arguments)])
        // A 409 hands out the id to use; a daemon restarted meanwhile gives a new one.
        for _ in 0..<2 {
            var headers = [("X-Transmission-Session-Id", sessionID)]
            if let authorization { headers.append(("Authorization", authorization)) }
            let response: HTTPClient.Response
            do {
                response = try await HTTPClient.send(.POST, url, headers: headers, body: body, timeout: timeout, maxBody: 256 << 20)
            } catch {
                throw Failure(kind: .unreachable, description: "\(url): \(error.description)")
            }
            switch response.status {
            case 409:
                sessionID = response.header("X-Transmission-Session-Id") ?? ""
                continue
            case 401: throw Failure(kind: .unauthorized, description: "\(url): wrong or missing user name and password")
            case 200: break
            default:
                let text = String(decoding: response.body.prefix(200), as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
                throw Failure(kind: .refused, description: "\(url): HTTP \(response.status): \(text)")
            }
            let reply: JSONValue
            do {
                reply = try JSONParser.parse(response.body)
            } catch {
                throw Failure(kind: .refused, description: "\(url): not an RPC answer (\(error))")
            }
            guard let result = reply["result"]?.string else { throw Failure(kind: .refused, description: "\(url): an answer without a result") }
            guard result == "success" else { throw Failure(kind: .method, description: result) }
            return reply["arguments"]?.object ?? [:]
        }
        throw Failure(kind: .refused, description: "\(url): the session id was refused twice")
    }
}
