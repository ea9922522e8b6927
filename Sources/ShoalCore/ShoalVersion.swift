/// Shoal's version, as `--version`, created-by fields and the extension handshake give it.
public enum ShoalVersion {
    public static let string = "0.1.0"
    public static let createdBy = "Shoal \(string)"
}
