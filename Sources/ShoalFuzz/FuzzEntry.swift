import Foundation

/// libFuzzer's entry point. The target comes from SHOAL_FUZZ_TARGET (read once).
nonisolated(unsafe) private var selected: FuzzTarget?

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    if selected == nil {
        let name = ProcessInfo.processInfo.environment["SHOAL_FUZZ_TARGET"] ?? ""
        guard let target = FuzzTarget(rawValue: name) else {
            fatalError("set SHOAL_FUZZ_TARGET to one of: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        selected = target
    }
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    selected?.run(bytes)
    return 0
}

#if SHOAL_LIBFUZZER
// SwiftPM links an executable with `main` pointing at `<target>_main`; under libFuzzer that
// entry hands control to libFuzzer's driver.
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(_ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                       _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt

@_cdecl("shoal_fuzz_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    var count = argc
    var values = argv
    return runDriver(&count, &values) { data, size in fuzzOneInput(data, size) }
}
#else
/// Without libFuzzer (a plain build), the same targets run over a corpus directory and a
/// bounded number of random mutations of it: `shoal-fuzz TARGET CORPUS_DIR [RUNS]`.
@main
enum FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments
        guard arguments.count >= 3, let target = FuzzTarget(rawValue: arguments[1]) else {
            FileHandle.standardError.write(Data("usage: shoal-fuzz TARGET CORPUS_DIR [RUNS]; targets: \(FuzzTarget.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
            exit(2)
        }
        let runs = arguments.count > 3 ? Int(arguments[3]) ?? 10_000 : 10_000
        let files = (try? FileManager.default.contentsOfDirectory(atPath: arguments[2])) ?? []
        var corpus = files.compactMap { FileManager.default.contents(atPath: arguments[2] + "/" + $0).map { Array($0) } }
        if corpus.isEmpty { corpus = [[]] }
        var rng = SystemRandomNumberGenerator()
        for input in corpus { target.run(input) }
        for _ in 0..<runs {
            var input = corpus.randomElement(using: &rng)!
            for _ in 0..<Int.random(in: 1...8, using: &rng) {
                switch Int.random(in: 0..<4, using: &rng) {
                case 0 where !input.isEmpty: input[Int.random(in: 0..<input.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                case 1: input.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0...input.count, using: &rng))
                case 2 where !input.isEmpty: input.remove(at: Int.random(in: 0..<input.count, using: &rng))
                default: input += input.prefix(Int.random(in: 0...16, using: &rng))
                }
            }
            target.run(input)
        }
        print("\(target.rawValue): \(corpus.count) corpus inputs and \(runs) mutations, no crash")
    }
}
#endif
