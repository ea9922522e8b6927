/// The named colour slots views draw with; a theme maps each to colours and attributes.
public enum StyleSlot: String, Sendable, CaseIterable, Hashable {
    case text, dim, title, header, selected, statusBar, key, prompt, message, border
    case downloading, seeding, paused, checking, finished, error
    case pieceHave, pieceActive, pieceMissing, heatLow, heatMid, heatHigh
    case graphDown, graphUp
}
