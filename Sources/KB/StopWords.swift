/// Words that carry no topic: German and English function words, and the
/// filler of a support chat ("hallo", "bitte", "problem", "since yesterday")
/// that would otherwise make every problem description look partly unknown
/// to the knowledge base and lower its suggestions' confidence.
///
/// The lists are written in plain spelling and folded at start-up with the
/// same ``TextAnalysis`` folding as the text, so "für", "fuer" and "FÜR" all
/// hit the entry "für". Words that carry a topic in this domain ("neu",
/// "new", "start", "voll", "full") are deliberately not in the lists.
enum StopWords {
    /// Whether the folded word `key` is a stop word (for parts of words,
    /// which have no spelling of their own; a whole token is asked with
    /// ``contains(_:)-(TextAnalysis.Token)``).
    static func contains(_ key: String) -> Bool { all.contains(key) }

    /// Whether `token` is a stop word. A word written with an umlaut is one
    /// only if a stop word is written with one too: "für" and "fuer" are
    /// the stop word "für", "fur" (typed without umlauts) is too, but
    /// "ändere" and "aendere" (I change), which fold to the stop word
    /// "andere" (other), are words, as are English "due" (not "du") and
    /// "toe" (not "to").
    static func contains(_ token: TextAnalysis.Token) -> Bool {
        token.umlaut ? writtenWithUmlaut.contains(token.key) : all.contains(token.key)
    }

    /// Whether `key` is support-chat filler (not a function word). A
    /// compound may contain filler ("Speicherplatz·problem"); the split
    /// skips it, while a function word is never a compound part.
    static func isFiller(_ key: String) -> Bool { filler.contains(key) }

    static let german = """
        aber alle allem allen aller alles als also am an ander andere anderen anderer anderes \
        auch auf aus bei beim bin bis bist bitte bzw da dabei dadurch dafür dagegen daher damit \
        dann daran darauf darin darum das dass daß davon dazu dein deine dem den denn der deren \
        des deshalb dessen dich die dies diese diesem diesen dieser dieses dir doch dort du durch \
        ein eine einem einen einer eines einfach einige einmal er es etwa etwas euch euer eure eurem euren eurer eures \
        für gar gegen geht gehen hab habe haben hat hatte hätte hier hin hinter ich ihm ihn ihnen \
        ihr ihre ihrem ihren ihrer ihres dein deinem deinen deiner deines im immer in ins ist ja jede jedem jeden jeder jedes \
        jetzt kann kannst kein keine keinem keinen keiner können könnte man manche manchmal mehr \
        mein meine meinem meinen meiner meines mich mir mit muss müssen nach nicht nichts noch nun nur \
        ob oder ohne per schon sehr sein seine seinem seinen seiner seines seit sich sie sind so solche \
        soll sollte sondern sonst über um und uns unser unsere unserem unseren unserer unseres unter \
        viel vom von vor wann war waren wären warum was weil welche welchem welchen welcher welches \
        wenn wer werde werden wie wieder will wir wird wo wollen wurde würde zu zum zur zwar \
        zwischen grüß nö schön
        """

    static let english = """
        a about above after again against all am an and any are aren as at be because been \
        before being below between both but by can cannot could couldn did didn do does doesn \
        doing don during each few for from further had hadn has hasn have haven having he \
        her here hers herself him himself his how i if in into is isn it its itself just let me \
        more most my myself no nor not now of off on once only or other our ours ourselves out \
        over own same she should shouldn so some such than that the their theirs them themselves \
        then there these they this those through to too under until up very was wasn we were \
        weren what when where which while who whom why will with won would wouldn you your yours \
        yourself yourselves also get gets got keep keeps still anymore anything something \
        someone how via ve ll re us go goes going say says said want wants wanted make makes \
        made
        """

    /// Support-chat filler in both languages: greetings, politeness, time
    /// words, and the verbs everyone uses to say that something is wrong
    /// ("funktioniert nicht", "komme nicht rein", "doesn't work anymore").
    static let chatFiller = """
        hallo hi hello hey moin servus guten tag morgen abend dear team support kundendienst \
        danke vielen dank thanks thank please bitte dringend urgent asap schnell quickly help \
        hilfe helfen help brauche need needs problem probleme problems issue issues frage \
        question leider unfortunately irgendwie somehow heute today gestern yesterday seit since \
        woche week letzte last kundennummer customer number nummer grüße gruß regards best \
        freundlichen mfg lg gibt there funktioniert funktionieren funktionierte klappt klappen \
        geht gehen ging kommt komme kommen rein raus bekommen bekomme bekommt kriegen kriege \
        mal eigentlich plötzlich suddenly work works working worked try tried trying happen \
        happens happened anymore again hey ok okay dauert dauern \
        komplett völlig total ganz gänzlich überhaupt wirklich echt absolut vollständig \
        completely totally entirely fully really absolutely whole quite \
        montag dienstag mittwoch donnerstag freitag samstag sonntag wochenende \
        monday tuesday wednesday thursday friday saturday sunday weekend \
        morgens vormittag mittag nachmittag abends nacht nachts früh \
        morning afternoon evening night tonight \
        immer ständig dauernd andauernd oft häufig always constantly often frequently every \
        kollege kollegin kollegen mitarbeiter mitarbeiterin mitarbeitern chef chefin \
        colleague colleagues coworker coworkers boss \
        versehentlich versehen accidentally finde finden find
        """

    static let filler: Set<String> = folded(chatFiller)

    /// The keys of the stop words written with an umlaut or its
    /// transliteration ("für", "über", "does"; ``TextAnalysis/Token/umlaut``).
    static let writtenWithUmlaut: Set<String> = Set(
        TextAnalysis.tokens(german + " " + english + " " + chatFiller).filter(\.umlaut).map(\.key))

    static let all: Set<String> = folded(german).union(folded(english)).union(filler)
    static let germanOnly: Set<String> = folded(german).subtracting(folded(english))
    static let englishOnly: Set<String> = folded(english).subtracting(folded(german))

    /// The language a query's function words suggest ("Wir bekommen keine
    /// … mehr" is German), or nil when they do not tell.
    static func language(of tokens: [TextAnalysis.Token]) -> Article.Language? {
        var german = 0, english = 0
        for token in tokens {
            if germanOnly.contains(token.key) { german += 1 }
            if englishOnly.contains(token.key) { english += 1 }
        }
        return german > english ? .de : english > german ? .en : nil
    }

    private static func folded(_ list: String) -> Set<String> {
        Set(TextAnalysis.tokens(list).map(\.key))
    }
}
