import Core
import Foundation
import Synchronization

/// The knowledge base of a folder, reloadable while searches run.
///
/// Searches read ``current``, an immutable ``KnowledgeBase`` value; a
/// ``reload()`` builds a complete new value off to the side and swaps it in
/// at once, so a search sees either the old or the new articles, never a mix.
///
/// A reload **fails**, and the current knowledge base stays, when the folder
/// cannot be read, or when not a single article loads while the current one
/// has some (an emptied or half-copied folder should not wipe the KB). A
/// reload that succeeds with some bad files keeps each bad file's previously
/// loaded article (its error says so), so an article being edited does not
/// vanish from search until it is fixed.
public final class ReloadableKnowledgeBase: Sendable {
    /// What a reload did.
    public struct ReloadResult: Sendable {
        /// Whether the new knowledge base replaced the old one.
        public var replaced: Bool
        /// The number of articles now in use.
        public var articleCount: Int
        /// Every problem found (each was also logged).
        public var errors: [KBLoadError]
    }

    /// The folder the articles are read from (it follows the KB bot's
    /// definition: ``replace(with:folder:errors:)`` may move it).
    public var folder: URL { state.withLock { $0.folder } }
    private let logger: Logger
    private let state: Mutex<(base: KnowledgeBase, folder: URL)>

    /// Loads `folder`; problems are logged (as warnings, one per file) and
    /// available in ``initialErrors``.
    /// `vocabulary` expands query words (see ``Vocabulary``); a reload keeps it.
    public convenience init(folder: URL, vocabulary: Vocabulary = .empty, logger: Logger) {
        let (loaded, errors) = KnowledgeBase.load(from: folder, vocabulary: vocabulary)
        self.init(loaded, folder: folder, errors: errors, logger: logger)
    }

    /// Starts with a knowledge base already loaded from `folder` (the
    /// gateway's configuration check loaded it; reading it again would
    /// only cost time). `errors` are logged and kept in ``initialErrors``.
    public init(_ loaded: KnowledgeBase, folder: URL, errors: [KBLoadError], logger: Logger) {
        self.logger = logger
        state = Mutex((loaded, folder))
        initialErrors = errors
        Self.log(errors, logger: logger)
        logger.info("knowledge base loaded", ["folder": folder.path, "articles": loaded.count,
                                              "errors": errors.count])
    }

    /// Swaps in a knowledge base loaded elsewhere, from `folder` — on a
    /// reload whose configuration was checked as a whole, and which may name
    /// another article folder. `errors` (found while loading it) are logged.
    public func replace(with loaded: KnowledgeBase, folder: URL, errors: [KBLoadError]) {
        Self.log(errors, logger: logger)
        state.withLock { $0 = (loaded, folder) }
        logger.info("knowledge base reloaded", ["folder": folder.path, "articles": loaded.count,
                                                "errors": errors.count])
    }

    /// The problems found by the initial load.
    public let initialErrors: [KBLoadError]

    /// The knowledge base to search now.
    public var current: KnowledgeBase { state.withLock { $0.base } }

    /// Re-reads the folder and swaps in the new knowledge base (see the type's
    /// documentation for when it keeps the old one instead), with the
    /// current vocabulary. (A reload of the whole configuration reads the
    /// vocabulary files again and uses ``replace(with:folder:errors:)``.)
    @discardableResult
    public func reload() -> ReloadResult {
        let old = current
        let folder = self.folder
        let (loaded, errors) = KnowledgeBase.load(from: folder, vocabulary: old.vocabulary, previous: old)
        Self.log(errors, logger: logger)
        let root = folder.standardizedFileURL.path
        let folderFailed = errors.contains { $0.kind == .unreadable && $0.file == root }
        if folderFailed || (loaded.count == 0 && old.count > 0) {
            logger.error("knowledge base reload failed; keeping the loaded articles",
                         ["folder": folder.path, "articles": old.count, "errors": errors.count])
            return ReloadResult(replaced: false, articleCount: old.count, errors: errors)
        }
        state.withLock { $0.base = loaded }
        logger.info("knowledge base reloaded", ["folder": folder.path, "articles": loaded.count,
                                                "errors": errors.count])
        if let problem = loaded.dictionaryProblem, old.dictionaryProblem == nil {
            logger.warning("KB dictionary not in use", ["error": problem])
        }
        return ReloadResult(replaced: true, articleCount: loaded.count, errors: errors)
    }

    private static func log(_ errors: [KBLoadError], logger: Logger) {
        for error in errors {
            if error.kind == .unpairedTranslation {
                logger.warning("knowledge base article's translation not found", [
                    "file": error.file, "error": error.message])
                continue
            }
            if error.kind == .oneWordQuestion {
                logger.warning("knowledge base article's question matches on one word", [
                    "file": error.file, "error": error.message])
                continue
            }
            logger.warning("knowledge base file skipped", [
                "file": error.file, "line": error.line.map(String.init) ?? "-",
                "field": error.field ?? "-", "error": error.message,
                "kept_previous": error.keptPreviousVersion,
            ])
        }
    }
}
