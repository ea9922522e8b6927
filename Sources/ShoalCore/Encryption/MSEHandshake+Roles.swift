/// The two sides' steps after the key exchange.
extension MSEHandshake {
    // MARK: Initiator

    /// Step three: prove we know S, name the torrent without revealing it, offer methods.
    mutating func initiatorRequest(infoHash: InfoHash, provide: CryptoMethods) -> [UInt8] {
        self.infoHash = infoHash
        var send = MSEKeyExchange.hash(Array("req1".utf8), secret)
        let req2 = MSEKeyExchange.obfuscatedKey(for: infoHash)
        let req3 = MSEKeyExchange.hash(Array("req3".utf8), secret)
        send += zip(req2, req3).map { $0 ^ $1 }
        var encrypt = MSEKeyExchange.cipher("keyA", secret: secret, infoHash: infoHash)
        incoming = MSEKeyExchange.cipher("keyB", secret: secret, infoHash: infoHash)
        var plain = Self.verificationConstant
        plain += Self.bigEndian(Int(provide.rawValue), bytes: 4)
        plain += Self.bigEndian(secondPad.count, bytes: 2) + secondPad
        plain += Self.bigEndian(0, bytes: 2) // no initial payload: the BitTorrent handshake follows
        send += encrypt.applied(to: plain)
        outgoing = encrypt
        provided = provide
        return send
    }

    mutating func advanceInitiator(_ step: inout MSEHandshake.Step) throws(MSEFailure) -> Bool {
        switch stage {
        case .awaitingVerification:
            // The responder's VC is eight zero bytes under its cipher: find them after PadB.
            guard var cipher = incoming else { return false }
            let pattern = cipher.peekKeystream(Self.verificationConstant.count)
            guard try skip(past: pattern, within: Self.maxPadding, what: "verification constant") else { return false }
            cipher.skip(pattern.count)
            incoming = cipher
            stage = .awaitingSelect
            return true
        case .awaitingSelect:
            guard let raw = take(6) else { return false }
            let select = Self.uint32(Array(raw[0..<4]))
            guard let method = CryptoMethod(rawValue: select), provided.contains(method) else {
                throw MSEFailure("the peer selected \(CryptoMethods(rawValue: select)) of the offered \(provided)")
            }
            selected = method
            stage = .awaitingPadD(try Self.paddingLength(raw[4..<6]))
            return true
        case .awaitingPadD(let length):
            guard take(length) != nil else { return false }
            step.established = finish()
            return false
        default:
            return false
        }
    }

    /// A PadC or PadD length field, checked against the bound.
    static func paddingLength(_ field: ArraySlice<UInt8>) throws(MSEFailure) -> Int {
        let length = uint16(Array(field))
        guard length <= maxPadding else { throw MSEFailure("padding of \(length) bytes (at most \(maxPadding))") }
        return length
    }

    // MARK: Responder

    mutating func advanceResponder(_ step: inout MSEHandshake.Step) throws(MSEFailure) -> Bool {
        guard case .responder(let preference, let lookup) = role else { return false }
        switch stage {
        case .awaitingReq1:
            let req1 = MSEKeyExchange.hash(Array("req1".utf8), secret)
            guard try skip(past: req1, within: Self.maxPadding, what: "HASH('req1', S)") else { return false }
            stage = .awaitingTorrent
            return true
        case .awaitingTorrent:
            guard let obfuscated = take(20) else { return false }
            let req3 = MSEKeyExchange.hash(Array("req3".utf8), secret)
            guard let infoHash = lookup(zip(obfuscated, req3).map { $0 ^ $1 }) else {
                throw MSEFailure("the peer asked for a torrent we do not have")
            }
            self.infoHash = infoHash
            incoming = MSEKeyExchange.cipher("keyA", secret: secret, infoHash: infoHash)
            outgoing = MSEKeyExchange.cipher("keyB", secret: secret, infoHash: infoHash)
            stage = .awaitingProvide
            return true
        case .awaitingProvide:
            guard let raw = take(14) else { return false }
            guard raw.prefix(8).elementsEqual(Self.verificationConstant) else { throw MSEFailure("wrong verification constant") }
            provided = CryptoMethods(rawValue: Self.uint32(Array(raw[8..<12])))
            guard let method = preference.first(where: provided.contains) else {
                throw MSEFailure("the peer offers \(provided); we accept \(preference.map(\.description).joined(separator: " or "))")
            }
            selected = method
            stage = .awaitingPadC(try Self.paddingLength(raw[12..<14]))
            return true
        case .awaitingPadC(let length):
            guard take(length) != nil else { return false }
            stage = .awaitingInitialPayloadLength
            return true
        case .awaitingInitialPayloadLength:
            guard let raw = take(2) else { return false }
            let length = Self.uint16(raw)
            guard length <= Self.maxInitialPayload else {
                throw MSEFailure("initial payload of \(length) bytes (at most \(Self.maxInitialPayload))")
            }
            stage = .awaitingInitialPayload(length)
            return true
        case .awaitingInitialPayload(let length):
            guard let payload = take(length) else { return false }
            initialPayload = payload
            guard var encrypt = outgoing, let method = selected else { return false }
            var plain = Self.verificationConstant + Self.bigEndian(Int(method.rawValue), bytes: 4)
            plain += Self.bigEndian(secondPad.count, bytes: 2) + secondPad
            step.send += encrypt.applied(to: plain)
            outgoing = encrypt
            step.established = finish()
            return false
        default:
            return false
        }
    }
}
