/// A three-digit server reply code (RFC 2812 §5, modern.ircdocs.horse
/// "Numerics"; SASL replies from IRCv3 sasl-3.1; WHOX from the WHOX spec).
///
/// Any code 000…999 is representable; the named constants are the ones
/// Switchboard's client acts on. `IRCNumeric.nicknameInUse == .numeric(433)`.
public struct IRCNumeric: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible,
    ExpressibleByIntegerLiteral
{
    /// The code, 0…999.
    public let rawValue: UInt16

    /// A reply code; nil above 999 (a numeric has three digits).
    public init?(rawValue: UInt16) {
        guard rawValue <= 999 else { return nil }
        self.rawValue = rawValue
    }

    /// `IRCNumeric = 433`; the literal must be at most 999.
    public init(integerLiteral value: UInt16) {
        precondition(value <= 999, "an IRC numeric has three digits: \(value)")
        self.rawValue = value
    }

    init(validated code: UInt16) { rawValue = code }

    /// The code as it appears on the wire: always three digits (`001`).
    public var code: String {
        let v = Int(rawValue)
        return String(unsafeUninitializedCapacity: 3) { buffer in
            buffer[0] = UInt8(0x30 + v / 100)
            buffer[1] = UInt8(0x30 + v / 10 % 10)
            buffer[2] = UInt8(0x30 + v % 10)
            return 3
        }
    }

    /// The conventional name (`RPL_WELCOME`) when known, for logs.
    public var name: String? { Self.names[rawValue] }

    /// `433 ERR_NICKNAMEINUSE` or just `433`.
    public var description: String { name.map { "\(code) \($0)" } ?? code }

    public static func < (lhs: IRCNumeric, rhs: IRCNumeric) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Whether this is an error reply (400–599, RFC 2812 §5.2).
    public var isError: Bool { (400...599).contains(rawValue) }

    // MARK: Registration (RFC 2812 §5.1; 005 from modern.ircdocs.horse)
    /// 001 RPL_WELCOME: registration succeeded; parameter 0 is our nick.
    public static let welcome: IRCNumeric = 1
    /// 002 RPL_YOURHOST.
    public static let yourHost: IRCNumeric = 2
    /// 003 RPL_CREATED.
    public static let created: IRCNumeric = 3
    /// 004 RPL_MYINFO.
    public static let myInfo: IRCNumeric = 4
    /// 005 RPL_ISUPPORT: server features, see ``ISupport``.
    public static let isupport: IRCNumeric = 5

    // MARK: WHO / WHOX / NAMES / TOPIC
    /// 315 RPL_ENDOFWHO.
    public static let endOfWho: IRCNumeric = 315
    /// 331 RPL_NOTOPIC.
    public static let noTopic: IRCNumeric = 331
    /// 332 RPL_TOPIC.
    public static let topic: IRCNumeric = 332
    /// 333 RPL_TOPICWHOTIME.
    public static let topicWhoTime: IRCNumeric = 333
    /// 352 RPL_WHOREPLY.
    public static let whoReply: IRCNumeric = 352
    /// 353 RPL_NAMREPLY.
    public static let namesReply: IRCNumeric = 353
    /// 354 RPL_WHOSPCRPL: a WHOX reply (fields as requested).
    public static let whoxReply: IRCNumeric = 354
    /// 366 RPL_ENDOFNAMES.
    public static let endOfNames: IRCNumeric = 366
    /// 372 RPL_MOTD.
    public static let motd: IRCNumeric = 372
    /// 375 RPL_MOTDSTART.
    public static let motdStart: IRCNumeric = 375
    /// 376 RPL_ENDOFMOTD.
    public static let endOfMOTD: IRCNumeric = 376

    // MARK: Errors (RFC 2812 §5.2, modern.ircdocs.horse)
    /// 401 ERR_NOSUCHNICK.
    public static let noSuchNick: IRCNumeric = 401
    /// 403 ERR_NOSUCHCHANNEL.
    public static let noSuchChannel: IRCNumeric = 403
    /// 404 ERR_CANNOTSENDTOCHAN.
    public static let cannotSendToChannel: IRCNumeric = 404
    /// 421 ERR_UNKNOWNCOMMAND.
    public static let unknownCommand: IRCNumeric = 421
    /// 422 ERR_NOMOTD.
    public static let noMOTD: IRCNumeric = 422
    /// 432 ERR_ERRONEUSNICKNAME.
    public static let erroneousNickname: IRCNumeric = 432
    /// 433 ERR_NICKNAMEINUSE.
    public static let nicknameInUse: IRCNumeric = 433
    /// 436 ERR_NICKCOLLISION.
    public static let nickCollision: IRCNumeric = 436
    /// 437 ERR_UNAVAILRESOURCE (nick or channel temporarily unavailable).
    public static let unavailableResource: IRCNumeric = 437
    /// 442 ERR_NOTONCHANNEL.
    public static let notOnChannel: IRCNumeric = 442
    /// 451 ERR_NOTREGISTERED.
    public static let notRegistered: IRCNumeric = 451
    /// 461 ERR_NEEDMOREPARAMS.
    public static let needMoreParameters: IRCNumeric = 461
    /// 464 ERR_PASSWDMISMATCH.
    public static let passwordMismatch: IRCNumeric = 464
    /// 465 ERR_YOUREBANNEDCREEP.
    public static let bannedFromServer: IRCNumeric = 465
    /// 471 ERR_CHANNELISFULL.
    public static let channelIsFull: IRCNumeric = 471
    /// 472 ERR_UNKNOWNMODE.
    public static let unknownMode: IRCNumeric = 472
    /// 473 ERR_INVITEONLYCHAN.
    public static let inviteOnlyChannel: IRCNumeric = 473
    /// 474 ERR_BANNEDFROMCHAN.
    public static let bannedFromChannel: IRCNumeric = 474
    /// 475 ERR_BADCHANNELKEY.
    public static let badChannelKey: IRCNumeric = 475
    /// 476 ERR_BADCHANMASK.
    public static let badChannelMask: IRCNumeric = 476
    /// 477 ERR_NEEDREGGEDNICK (RFC 2812: ERR_NOCHANMODES): the channel needs
    /// a registered account.
    public static let needRegisteredNick: IRCNumeric = 477

    // MARK: SASL (IRCv3 sasl-3.1, "Numerics")
    /// 900 RPL_LOGGEDIN: parameter 2 is the account name.
    public static let loggedIn: IRCNumeric = 900
    /// 901 RPL_LOGGEDOUT.
    public static let loggedOut: IRCNumeric = 901
    /// 902 ERR_NICKLOCKED.
    public static let nickLocked: IRCNumeric = 902
    /// 903 RPL_SASLSUCCESS.
    public static let saslSuccess: IRCNumeric = 903
    /// 904 ERR_SASLFAIL.
    public static let saslFail: IRCNumeric = 904
    /// 905 ERR_SASLTOOLONG.
    public static let saslTooLong: IRCNumeric = 905
    /// 906 ERR_SASLABORTED.
    public static let saslAborted: IRCNumeric = 906
    /// 907 ERR_SASLALREADY.
    public static let saslAlready: IRCNumeric = 907
    /// 908 RPL_SASLMECHS: parameter 1 lists the mechanisms.
    public static let saslMechanisms: IRCNumeric = 908

    private static let names: [UInt16: String] = [
        1: "RPL_WELCOME", 2: "RPL_YOURHOST", 3: "RPL_CREATED", 4: "RPL_MYINFO", 5: "RPL_ISUPPORT",
        315: "RPL_ENDOFWHO", 331: "RPL_NOTOPIC", 332: "RPL_TOPIC", 333: "RPL_TOPICWHOTIME",
        352: "RPL_WHOREPLY", 353: "RPL_NAMREPLY", 354: "RPL_WHOSPCRPL", 366: "RPL_ENDOFNAMES",
        372: "RPL_MOTD", 375: "RPL_MOTDSTART", 376: "RPL_ENDOFMOTD",
        401: "ERR_NOSUCHNICK", 403: "ERR_NOSUCHCHANNEL", 404: "ERR_CANNOTSENDTOCHAN",
        421: "ERR_UNKNOWNCOMMAND", 422: "ERR_NOMOTD", 432: "ERR_ERRONEUSNICKNAME",
        433: "ERR_NICKNAMEINUSE", 436: "ERR_NICKCOLLISION", 437: "ERR_UNAVAILRESOURCE",
        442: "ERR_NOTONCHANNEL", 451: "ERR_NOTREGISTERED", 461: "ERR_NEEDMOREPARAMS",
        464: "ERR_PASSWDMISMATCH", 465: "ERR_YOUREBANNEDCREEP",
        471: "ERR_CHANNELISFULL", 472: "ERR_UNKNOWNMODE", 473: "ERR_INVITEONLYCHAN",
        474: "ERR_BANNEDFROMCHAN", 475: "ERR_BADCHANNELKEY", 476: "ERR_BADCHANMASK",
        477: "ERR_NEEDREGGEDNICK",
        900: "RPL_LOGGEDIN", 901: "RPL_LOGGEDOUT", 902: "ERR_NICKLOCKED", 903: "RPL_SASLSUCCESS",
        904: "ERR_SASLFAIL", 905: "ERR_SASLTOOLONG", 906: "ERR_SASLABORTED", 907: "ERR_SASLALREADY",
        908: "RPL_SASLMECHS",
    ]
}

