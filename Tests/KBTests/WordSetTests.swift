import Testing
@testable import KB

@Suite("WordSet: the common-word lists as one sorted byte block")
struct WordSetTests {
    @Test("Finds exactly the words it holds, whatever their length, bytes or order of insertion")
    func membership() {
        let words = ["zwei", "a", "ab", "abc", "große", "grosse", "", "verbindungsabbruchsmeldungen", "b", "ab"]
        let set = WordSet(words.reversed())
        #expect(set.count == 9, "duplicates are kept once")
        for word in words { #expect(set.contains(word), "\(word)") }
        for absent in ["abcd", "aa", "c", "zwe", "zweii", "grossE", "verbindungsabbruchsmeldung", "ß"] {
            #expect(!set.contains(absent), "\(absent)")
        }
    }

    @Test("An empty set holds nothing, not even the empty word")
    func empty() {
        let set: WordSet = []
        #expect(set.isEmpty && !set.contains("") && !set.contains("a"))
    }

    @Test("Two sets of the same words are equal, whatever the order they came in")
    func equality() {
        #expect(WordSet(["b", "a", "c"]) == ["c", "b", "a", "a"])
        #expect(WordSet(["b", "a"]) != ["a", "b", "c"])
    }

    @Test("Agrees with Set<String> on every word of a generated list and its near misses")
    func agreesWithSet() {
        var generator = SystemRandomNumberGenerator()
        let letters = Array("abcdeäöüßxyz")
        var words: [String] = []
        for _ in 0..<3_000 {
            let length = Int.random(in: 1...12, using: &generator)
            words.append(String((0..<length).map { _ in letters.randomElement(using: &generator)! }))
        }
        let reference = Set(words)
        let set = WordSet(words)
        #expect(set.count == reference.count)
        for word in words {
            #expect(set.contains(word))
            #expect(set.contains(word + "q") == reference.contains(word + "q"))
            #expect(set.contains(String(word.dropLast())) == reference.contains(String(word.dropLast())))
        }
    }
}
