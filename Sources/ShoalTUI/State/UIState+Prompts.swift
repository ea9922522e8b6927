import Foundation
import ShoalCore
import ShoalEngine

/// Keys while a prompt is open: typing, Tab completion, Enter and Esc.
extension UIState {
    mutating func handlePrompt(_ key: Key, prompt: Prompt, snapshot: SessionSnapshot) -> [UICommand] {
        switch prompt {
        case .confirmQuit:
            self.prompt = nil
            if key == .character("y") || key == .character("Y") || key == .character("q") { return [.quit] }
            message = "still running"
            return []
        case .confirmRemove(let ids, let name, let deleteData):
            self.prompt = nil
            guard key == .character("y") || key == .character("Y") else {
                message = "kept \(name)"
                return []
            }
            message = deleteData ? "removed \(name) and its data" : "removed \(name)"
            marked.subtract(ids)
            return ids.map { .remove($0, deleteData: deleteData) }
        case .limit(let upload, let text, let torrents):
            var text = text
            switch key {
            case .escape: self.prompt = nil
            case .enter:
                self.prompt = nil
                guard let value = Int(text.trimmedSpaces), value >= 0 else {
                    message = "a limit is a whole number of KiB/s (0 = unlimited)"
                    return []
                }
                let whose = torrents.isEmpty ? "" : torrents.count == 1 ? "this torrent's " : "\(torrents.count) torrents' "
                message = "\(whose)\(upload ? "upload" : "download") limit: \(value == 0 ? "unlimited" : "\(value) KiB/s")"
                if !torrents.isEmpty {
                    return torrents.map { .setTorrentLimits($0, uploadKiB: upload ? value : nil, downloadKiB: upload ? nil : value) }
                }
                return [.setGlobalLimits(uploadKiB: upload ? value : nil, downloadKiB: upload ? nil : value)]
            case .backspace, .delete:
                if !text.isEmpty { text.removeLast() }
                self.prompt = .limit(upload: upload, text, torrents: torrents)
            case .character(let c) where c.isNumber:
                text.append(c)
                self.prompt = .limit(upload: upload, text, torrents: torrents)
            default: break
            }
            return []
        case .move(let ids, let text):
            guard let edited = edit(text, key, completing: !detaches, directoriesOnly: true) else { return [] }
            switch edited {
            case .typing(let text): self.prompt = .move(ids, text)
            case .done(let text):
                let directory = text.trimmedSpaces
                guard !directory.isEmpty else { return [] }
                message = "moving the data to \(directory)"
                return ids.map { .move($0, directory: directory) }
            }
            return []
        case .tracker(let id, let index, let text):
            guard let edited = edit(text, key, completing: false) else { return [] }
            switch edited {
            case .typing(let text): self.prompt = .tracker(id, index: index, text)
            case .done(let text):
                let url = text.trimmedSpaces
                guard !url.isEmpty, let current = snapshot.torrents.first(where: { $0.id == id })?.trackers else { return [] }
                var flat = current.map { ($0.tier, Optional($0.url)) }
                if let index, flat.indices.contains(index) {
                    flat[index].1 = url
                } else {
                    flat.append(((flat.last?.0 ?? -1) + 1, url))
                }
                message = index == nil ? "added \(url)" : "changed to \(url)"
                return [.setTrackers(id, Self.tiers(flat))]
            }
            return []
        case .labels(let ids, let text):
            guard let edited = edit(text, key, completing: false) else { return [] }
            switch edited {
            case .typing(let text): self.prompt = .labels(ids, text)
            case .done(let text):
                let labels = text.split(separator: ",").map { String($0).trimmedSpaces }.filter { !$0.isEmpty }
                message = labels.isEmpty ? "labels removed" : "labels: \(labels.joined(separator: ", "))"
                return ids.map { .setLabels($0, labels) }
            }
            return []
        case .addPath(let text), .filter(let text):
            var text = text
            if key != .tab { message = nil }
            switch key {
            case .escape:
                self.prompt = nil
                return []
            case .enter:
                self.prompt = nil
                if case .filter = prompt {
                    filter = text
                    return []
                }
                let path = text.trimmedSpaces
                return path.isEmpty ? [] : [.add(path: path)]
            case .backspace, .delete: if !text.isEmpty { text.removeLast() }
            case .character(let c): text.append(c)
            case .tab:
                guard case .addPath = prompt else { break }
                let completion = PathCompletion.complete(text, home: homeDirectory, list: listDirectory)
                text = completion.text
                message = completion.choices.isEmpty ? nil : completion.choices.joined(separator: "  ")
            default: break
            }
            if case .filter = prompt {
                self.prompt = .filter(text)
                filter = text  // filter as you type
            } else {
                self.prompt = .addPath(text)
            }
            return []
        }
    }
}

extension UIState {
    enum Edited {
        case typing(String)
        case done(String)
    }

    /// One key in a text prompt: nil when it closed the prompt without an answer (Esc).
    mutating func edit(_ text: String, _ key: Key, completing: Bool, directoriesOnly: Bool = false) -> Edited? {
        var text = text
        if key != .tab { message = nil }
        switch key {
        case .escape:
            prompt = nil
            return nil
        case .enter:
            prompt = nil
            return .done(text)
        case .backspace, .delete: if !text.isEmpty { text.removeLast() }
        case .character(let c): text.append(c)
        case .tab where completing:
            let completion = PathCompletion.complete(text, home: homeDirectory, list: listDirectory, directoriesOnly: directoriesOnly)
            text = completion.text
            message = completion.choices.isEmpty ? nil : completion.choices.joined(separator: "  ")
        default: break
        }
        return .typing(text)
    }
}

extension String {
    var trimmedSpaces: String {
        var text = Substring(self)
        while text.first == " " || text.first == "\t" { text.removeFirst() }
        while text.last == " " || text.last == "\t" { text.removeLast() }
        return String(text)
    }
}
