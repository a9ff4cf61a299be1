/// A small bilingual (German ↔ English) domain lexicon of NordBox support
/// terms, so that an English query finds German articles on the same topic
/// and the other way round, and common synonyms meet ("Kennwort" and
/// "Passwort", "licence" and "license").
///
/// It is code, not a data file, on purpose: it is part of the search
/// behaviour that the tests pin down, it needs no loading or error path, and
/// a change to it is reviewed like any other change to ranking. Each
/// ``Entry`` is one concept: its German and English words (any inflected form
/// may be written; each word is stemmed with its own language's stemmer).
/// A query term that belongs to a concept also searches every other word of
/// that concept, weighted ``Tuning/lexicon`` (below the
/// original term's 1.0), so an article in the query's own words ranks first.
///
/// To extend it: add words to an existing concept, or a new `Entry`. Keep
/// entries to single words (compounds are split by the search itself) and
/// to words that really mean the same thing in this domain; a loose synonym
/// here makes unrelated articles look relevant.
struct Lexicon: Sendable {
    struct Entry: Sendable {
        var de: [String]
        var en: [String]
    }

    /// The concepts. Grouped by the topics of the NordBox knowledge base.
    static let entries: [Entry] = [
        // Backup and restore
        Entry(de: ["wiederherstellen", "Wiederherstellung", "zurückspielen", "zurückholen", "Rücksicherung"],
              en: ["restore", "recover", "recovery"]),
        Entry(de: ["Sicherung", "sichern", "Datensicherung", "Backup"], en: ["backup", "backups"]),
        Entry(de: ["Datei", "Dateien"], en: ["file", "files"]),
        Entry(de: ["Ordner", "Verzeichnis"], en: ["folder", "directory"]),
        Entry(de: ["löschen", "gelöscht"], en: ["delete", "deleted", "removed"]),
        Entry(de: ["Auftrag", "Sicherungsauftrag", "Job"], en: ["job"]),
        Entry(de: ["Zeitplan", "planen"], en: ["schedule", "scheduled"]),
        Entry(de: ["täglich"], en: ["daily", "nightly"]),
        Entry(de: ["stündlich"], en: ["hourly"]),
        Entry(de: ["wöchentlich"], en: ["weekly"]),
        Entry(de: ["hinzufügen", "ergänzen", "aufnehmen"], en: ["add"]),
        Entry(de: ["neu", "neue"], en: ["new"]),
        Entry(de: ["ändern", "umstellen"], en: ["change"]),
        Entry(de: ["Rolle", "Rollen"], en: ["role", "roles"]),
        Entry(de: ["fehlgeschlagen", "scheitern"], en: ["failed", "fails"]),
        Entry(de: ["Fehler", "Fehlermeldung", "Fehlercode"], en: ["error", "failure"]),
        Entry(de: ["Version", "Versionen"], en: ["version", "versions"]),
        Entry(de: ["System", "Komplettsystem"], en: ["system"]),
        Entry(de: ["Rechner", "Computer", "Laptop", "Notebook"], en: ["computer", "laptop", "machine"]),
        // Storage
        Entry(de: ["Festplatte", "Platte", "Laufwerk"], en: ["disk", "drive", "hdd"]),
        Entry(de: ["Speicherplatz", "Platz", "Kapazität"], en: ["space", "capacity", "storage"]),
        Entry(de: ["Kontingent", "Quota"], en: ["quota"]),
        Entry(de: ["austauschen", "Austausch", "ersetzen", "tauschen"], en: ["replace", "replacement", "swap"]),
        Entry(de: ["defekt", "ausgefallen", "Ausfall", "kaputt"], en: ["defective", "broken", "faulty"]),
        Entry(de: ["degradiert"], en: ["degraded"]),
        // Network and VPN
        Entry(de: ["Verbindung", "verbinden"], en: ["connection", "connect", "connected"]),
        Entry(de: ["Verbindungsabbruch", "abbrechen", "bricht", "getrennt", "Abbruch"],
              en: ["drop", "drops", "disconnect", "disconnected", "disconnects"]),
        Entry(de: ["Netzwerk", "Netz"], en: ["network"]),
        Entry(de: ["Freigabe", "Netzwerkfreigabe"], en: ["share"]),
        Entry(de: ["erreichbar", "erreichen"], en: ["reachable", "accessible", "reach"]),
        Entry(de: ["unerreichbar"], en: ["unreachable"]),
        Entry(de: ["Zertifikat", "Zertifikate"], en: ["certificate", "certificates"]),
        Entry(de: ["installieren", "Installation"], en: ["install", "installation", "installer"]),
        Entry(de: ["einrichten", "Einrichtung", "konfigurieren", "anlegen", "erstellen"],
              en: ["setup", "configure", "configuration", "create"]),
        Entry(de: ["langsam", "ewig"], en: ["slow", "forever"]),
        Entry(de: ["falsch", "stimmt"], en: ["wrong", "incorrect"]),
        Entry(de: ["Replikation", "replizieren"], en: ["replication", "replicate"]),
        Entry(de: ["herunterladen"], en: ["download"]),
        Entry(de: ["hochladen"], en: ["upload"]),
        // Accounts and security
        Entry(de: ["Passwort", "Kennwort", "Passwörter"], en: ["password", "passwords"]),
        Entry(de: ["Anmeldung", "anmelden", "einloggen", "Login"], en: ["login", "logon", "signin"]),
        Entry(de: ["Benutzer", "Nutzer", "Anwender"], en: ["user", "users"]),
        Entry(de: ["Benutzerkonto", "Konto"], en: ["account"]),
        Entry(de: ["deaktivieren", "sperren"], en: ["disable", "deactivate", "lock"]),
        Entry(de: ["zurücksetzen"], en: ["reset"]),
        Entry(de: ["vergessen", "verloren"], en: ["forgot", "forgotten", "lost"]),
        Entry(de: ["Schlüssel"], en: ["key"]),
        Entry(de: ["Verschlüsselung", "verschlüsseln", "verschlüsselt"], en: ["encryption", "encrypted", "encrypt"]),
        Entry(de: ["Berechtigung", "Berechtigungen", "Rechte", "Zugriffsrechte"], en: ["permission", "permissions", "rights"]),
        Entry(de: ["Zugriff"], en: ["access"]),
        Entry(de: ["verweigert"], en: ["denied"]),
        Entry(de: ["Handy", "Smartphone", "Mobiltelefon", "Telefon"], en: ["phone", "smartphone", "mobile"]),
        Entry(de: ["Faktor"], en: ["factor"]),
        Entry(de: ["Authentifizierung", "Authentisierung"], en: ["authentication"]),
        // Operations
        Entry(de: ["Lizenz", "Lizenzen"], en: ["licence", "license", "licenses"]),
        Entry(de: ["abgelaufen", "ablaufen", "Ablauf"], en: ["expired", "expire", "expiry"]),
        Entry(de: ["verlängern", "Verlängerung", "erneuern"], en: ["renew", "renewal", "extend"]),
        Entry(de: ["Aktualisierung", "aktualisieren", "Update"], en: ["update", "upgrade"]),
        Entry(de: ["Benachrichtigung", "Warnmeldung", "Alarm"], en: ["alert", "notification", "alarm"]),
        Entry(de: ["Verwaltungsoberfläche", "Weboberfläche", "Konsole"], en: ["console", "dashboard"]),
        Entry(de: ["Uhrzeit", "Zeit"], en: ["time", "clock"]),
        Entry(de: ["Zeitzone"], en: ["timezone"]),
        Entry(de: ["Neustart", "neustarten"], en: ["restart", "reboot"]),
        Entry(de: ["Gerät"], en: ["device", "appliance"]),
        Entry(de: ["Mac"], en: ["mac", "macOS", "MacBook"]),
    ]

    /// The built-in lexicon, stemmed.
    static let builtIn = Lexicon(entries: entries)

    /// Stem → indices of the concepts it belongs to.
    private let conceptsOfStem: [String: [Int]]
    /// Concept → its stems (German and English), distinct.
    private let stemsOfConcept: [[String]]

    init(entries: [Entry]) {
        var conceptsOfStem: [String: [Int]] = [:]
        var stemsOfConcept: [[String]] = []
        for (index, entry) in entries.enumerated() {
            var stems: [String] = []
            for (words, language) in [(entry.de, Article.Language.de), (entry.en, .en)] {
                for word in words {
                    for token in TextAnalysis.indexTerms(word, language: language) where !stems.contains(token.term) {
                        stems.append(token.term)
                    }
                }
            }
            for stem in stems { conceptsOfStem[stem, default: []].append(index) }
            stemsOfConcept.append(stems)
        }
        self.conceptsOfStem = conceptsOfStem
        self.stemsOfConcept = stemsOfConcept
    }

    /// The other stems of every concept `stem` belongs to (never `stem` itself).
    func related(to stem: String) -> [String] {
        guard let concepts = conceptsOfStem[stem] else { return [] }
        var out: [String] = []
        for concept in concepts {
            for other in stemsOfConcept[concept] where other != stem && !out.contains(other) {
                out.append(other)
            }
        }
        return out
    }
}
