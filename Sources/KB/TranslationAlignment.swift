/// Terms learnt from translated article pairs: an article whose header says
/// `translation: KB-1023` is the same text in the other language, so the
/// words of its title and tags stand for the words of its partner's.
///
/// The alignment is deliberately conservative (a wrong pair makes unrelated
/// articles look relevant); words both sides share (product names, "VPN")
/// are left out first, then a German and an English word are aligned when
///
/// 1. **tags by position**: both articles have the same number of tags, and
///    tag *i* of each is one word (the convention of writing the tags of a
///    translation in the same order);
/// 2. **the one word left**: the titles have exactly one word each that the
///    other title lacks ("Zertifikat erneuern" / "Renew the certificate"
///    after "erneuern"/"renew" were aligned by the tags leaves nothing;
///    "NordBox neu starten" / "Restart the NordBox" leaves "starten"/"restart");
/// 3. **co-occurrence**: over all pairs, the two words appear together in
///    the titles and tags of at least two pairs, and (Dice coefficient) in
///    at least 80 % of the pairs that have either.
///
/// The aligned words join the vocabulary as two-word concepts.
enum TranslationAlignment {
    /// The aligned (German, English) word pairs of `articles`.
    static func concepts(_ articles: [Article]) -> [[(String, Article.Language)]] {
        var byID: [String: Article] = [:]
        for article in articles { byID[article.id.lowercased()] = article }
        var pairs: [(de: Article, en: Article)] = []
        var seen = Set<String>()
        for article in articles {
            guard let target = article.translation?.lowercased(), let other = byID[target],
                  other.language != article.language else { continue }
            let key = [article.id.lowercased(), target].sorted().joined(separator: "\t")
            guard seen.insert(key).inserted else { continue }
            pairs.append(article.language == .de ? (article, other) : (other, article))
        }
        guard !pairs.isEmpty else { return [] }

        struct Word: Hashable { var text: String; var stem: String }
        func words(_ text: String, _ language: Article.Language) -> [Word] {
            TextAnalysis.tokens(text).filter { !StopWords.contains($0) && !$0.isNumber }.map {
                Word(text: $0.folded, stem: TextAnalysis.indexTerm($0, language: language).term)
            }
        }
        var aligned: [(String, String)] = []
        var alignedKeys = Set<String>()
        var alignedDE = Set<String>(), alignedEN = Set<String>()
        func align(_ de: Word, _ en: Word) {
            guard de.stem != en.stem, alignedKeys.insert(de.stem + "\t" + en.stem).inserted else { return }
            aligned.append((de.text, en.text))
            alignedDE.insert(de.stem)
            alignedEN.insert(en.stem)
        }
        func alignedKeysContain(de stem: String) -> Bool { alignedDE.contains(stem) }
        func alignedKeysContain(en stem: String) -> Bool { alignedEN.contains(stem) }
        var cooccurrence: [String: (de: Word, en: Word, count: Int)] = [:]
        var pairCount: [String: Int] = [:]  // "de\t" / "en\t" + stem
        for (de, en) in pairs {
            let deTitle = words(de.title, .de), enTitle = words(en.title, .en)
            let deTags = de.tags.map { words($0, .de) }, enTags = en.tags.map { words($0, .en) }
            let deAll = deTitle + deTags.flatMap { $0 }, enAll = enTitle + enTags.flatMap { $0 }
            let shared = Set(deAll.map(\.stem)).intersection(enAll.map(\.stem))
            // 1. Tags by position.
            if deTags.count == enTags.count {
                for (d, e) in zip(deTags, enTags) where d.count == 1 && e.count == 1 && !shared.contains(d[0].stem) {
                    align(d[0], e[0])
                }
            }
            // 2. The one title word left.
            let deLeft = deTitle.filter { !shared.contains($0.stem) && !alignedKeysContain(de: $0.stem) }
            let enLeft = enTitle.filter { !shared.contains($0.stem) && !alignedKeysContain(en: $0.stem) }
            if Set(deLeft.map(\.stem)).count == 1, Set(enLeft.map(\.stem)).count == 1 { align(deLeft[0], enLeft[0]) }
            // 3. Co-occurrence counts.
            let deDistinct = Dictionary(deAll.filter { !shared.contains($0.stem) }.map { ($0.stem, $0) },
                                        uniquingKeysWith: { a, _ in a })
            let enDistinct = Dictionary(enAll.filter { !shared.contains($0.stem) }.map { ($0.stem, $0) },
                                        uniquingKeysWith: { a, _ in a })
            for stem in deDistinct.keys { pairCount["de\t" + stem, default: 0] += 1 }
            for stem in enDistinct.keys { pairCount["en\t" + stem, default: 0] += 1 }
            for (ds, d) in deDistinct {
                for (es, e) in enDistinct {
                    cooccurrence[ds + "\t" + es, default: (d, e, 0)].count += 1
                }
            }
        }
        for (_, entry) in cooccurrence.sorted(by: { $0.key < $1.key }) where entry.count >= 2 {
            let nd = pairCount["de\t" + entry.de.stem] ?? 0, ne = pairCount["en\t" + entry.en.stem] ?? 0
            if Double(2 * entry.count) / Double(nd + ne) >= 0.8 { align(entry.de, entry.en) }
        }
        return aligned.map { [($0.0, .de), ($0.1, .en)] }
    }
}
