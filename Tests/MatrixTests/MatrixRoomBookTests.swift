import Bots
import Desk
import Foundation
import Matrix
import MatrixAdapter
import Testing

/// How `/sync` events become what the bots see: places, principals,
/// addressing, what is never answered, invites, encrypted rooms.
@Suite struct MatrixRoomBookTests {
    static let agents = "!agents:example.org"
    static let dm = "!dm:example.org"

    func book() -> MatrixRoomBook {
        var book = MatrixRoomBook(ownUserID: "@switchboard:example.org", network: "matrix")
        book.configure(roomID: Self.agents, name: "#agents:example.org")
        book.addDirect(room: Self.dm, user: "@cust:example.org")
        return book
    }

    func sync(_ room: String, _ events: [String], state: [String] = [], batch: String = "s2") -> MatrixSyncResponse {
        let text = #"{"next_batch":"\#(batch)","rooms":{"join":{"\#(room)":{"state":{"events":[\#(state.joined(separator: ","))]},"timeline":{"events":[\#(events.joined(separator: ","))]}}}}}"#
        return try! JSONDecoder().decode(MatrixSyncResponse.self, from: Data(text.utf8))
    }

    func messages(_ outcomes: [MatrixRoomBook.Outcome]) -> [ChatMessage] {
        outcomes.compactMap { if case .message(let m, _, _) = $0 { m } else { nil } }
    }

    @Test func aDirectMessageComesFromTheSendersUserIDNeverTheDisplayName() {
        var book = book()
        let out = book.apply(sync(Self.dm, [
            #"{"type":"m.room.member","state_key":"@cust:example.org","sender":"@cust:example.org","content":{"membership":"join","displayname":"anna"}}"#,
            #"{"type":"m.room.message","sender":"@cust:example.org","event_id":"$1","origin_server_ts":1772442000000,"content":{"msgtype":"m.text","body":"Kundennummer 10042, VPN is down"}}"#,
        ]), initial: false)
        let m = messages(out)
        #expect(m.count == 1)
        #expect(m.first?.place == .direct)
        #expect(m.first?.principal == .account("@cust:example.org"))
        #expect(m.first?.sender.nick == "@cust:example.org")
        #expect(m.first?.text == "Kundennummer 10042, VPN is down")
        #expect(m.first?.time == Date(timeIntervalSince1970: 1_772_442_000))
    }

    @Test func inARoomTheBotIsAddressedByNameOrMentionAndTheAddressIsRemoved() {
        var book = book()
        let out = book.apply(sync(Self.agents, [
            #"{"type":"m.room.message","sender":"@anna:example.org","content":{"msgtype":"m.text","body":"switchboard: !queue"}}"#,
            #"{"type":"m.room.message","sender":"@anna:example.org","content":{"msgtype":"m.text","body":"Switchboard Bot: !next","format":"org.matrix.custom.html","formatted_body":"<a href=\"https://matrix.to/#/@switchboard:example.org\">Switchboard Bot</a>: !next","m.mentions":{"user_ids":["@switchboard:example.org"]}}}"#,
            #"{"type":"m.room.message","sender":"@anna:example.org","content":{"msgtype":"m.text","body":"!take 4"}}"#,
        ]), initial: false)
        let m = messages(out)
        #expect(m.map(\.place) == Array(repeating: .channel("#agents:example.org"), count: 3))
        #expect(m.map(\.addressedToBot) == [true, true, false])
        #expect(m.map(\.text) == ["!queue", "!next", "!take 4"])
    }

    @Test func noticesTheBotsOwnEventsEditsAndUnknownRoomsAreNotAnswered() {
        var book = book()
        let out = book.apply(sync(Self.dm, [
            #"{"type":"m.room.message","sender":"@cust:example.org","content":{"msgtype":"m.notice","body":"I am a bot"}}"#,
            #"{"type":"m.room.message","sender":"@switchboard:example.org","content":{"msgtype":"m.text","body":"echo"}}"#,
            #"{"type":"m.room.message","sender":"@cust:example.org","content":{"msgtype":"m.text","body":"* fixed","m.relates_to":{"rel_type":"m.replace","event_id":"$1"}}}"#,
            #"{"type":"m.room.message","sender":"@other:example.org","content":{"msgtype":"m.text","body":"not my room"}}"#,
        ]), initial: false)
        #expect(messages(out).isEmpty)
        var other = self.book()
        #expect(messages(other.apply(sync("!random:example.org", [
            #"{"type":"m.room.message","sender":"@a:example.org","content":{"msgtype":"m.text","body":"hi"}}"#,
        ]), initial: false)).isEmpty)
    }

    @Test func anEmoteIsAnActionAndAReplyLosesItsQuotedFallback() {
        var book = book()
        let out = book.apply(sync(Self.dm, [
            #"{"type":"m.room.message","sender":"@cust:example.org","content":{"msgtype":"m.emote","body":"is still waiting"}}"#,
            #"{"type":"m.room.message","sender":"@cust:example.org","content":{"msgtype":"m.text","body":"> <@switchboard:example.org> Severity 1-4?\n> more\n\n2","m.relates_to":{"m.in_reply_to":{"event_id":"$q"}}}}"#,
        ]), initial: false)
        let m = messages(out)
        #expect(m.map(\.isAction) == [true, false])
        #expect(m.map(\.text) == ["is still waiting", "2"])
    }

    @Test func theFirstSyncOfAFreshAccountIsHistoryAndAnswersNothing() {
        var book = book()
        let out = book.apply(sync(Self.dm, [
            #"{"type":"m.room.message","sender":"@cust:example.org","content":{"msgtype":"m.text","body":"old question"}}"#,
            #"{"type":"m.room.encrypted","sender":"@cust:example.org","content":{"algorithm":"m.megolm.v1.aes-sha2"}}"#,
        ]), initial: true)
        #expect(out.isEmpty)
    }

    @Test func encryptedEventsAreNeverMessagesAndMarkTheRoomOnceAndItsNoLongerADirectTarget() {
        var book = book()
        #expect(book.directRoom(for: "@cust:example.org") == Self.dm)
        let out = book.apply(sync(Self.dm, [
            #"{"type":"m.room.encryption","state_key":"","sender":"@cust:example.org","content":{"algorithm":"m.megolm.v1.aes-sha2"}}"#,
            #"{"type":"m.room.encrypted","sender":"@cust:example.org","content":{"ciphertext":"..."}}"#,
            #"{"type":"m.room.encrypted","sender":"@cust:example.org","content":{"ciphertext":"..."}}"#,
        ]), initial: false)
        #expect(out == [.encryptedRoom(Self.dm)])
        #expect(book.encrypted.contains(Self.dm))
        #expect(book.directRoom(for: "@cust:example.org") == nil)
    }

    @Test func anInviteNamesTheInviterAndWhetherItIsDirect() {
        var book = book()
        let text = #"{"next_batch":"s3","rooms":{"invite":{"!new:example.org":{"invite_state":{"events":[{"type":"m.room.member","state_key":"@switchboard:example.org","sender":"@cust2:example.org","content":{"membership":"invite","is_direct":true}}]}}}}}"#
        let out = book.apply(try! JSONDecoder().decode(MatrixSyncResponse.self, from: Data(text.utf8)), initial: false)
        #expect(out == [.invited(room: "!new:example.org", by: "@cust2:example.org", direct: true)])
    }

    @Test func aRoomOfTheBotAndOneUserIsTheirDirectRoomAndMDirectIsKept() {
        var book = book()
        let out = book.apply(sync("!two:example.org", [], state: [
            #"{"type":"m.room.member","state_key":"@switchboard:example.org","sender":"@x:example.org","content":{"membership":"join"}}"#,
            #"{"type":"m.room.member","state_key":"@x:example.org","sender":"@x:example.org","content":{"membership":"join"}}"#,
        ]), initial: false)
        #expect(out == [.directRoomLearnt(room: "!two:example.org", user: "@x:example.org")])
        #expect(book.directRoom(for: "@x:example.org") == "!two:example.org")
        #expect(book.directAccountData["@x:example.org"] == .array([.string("!two:example.org")]))
    }

    /// A batch whose state still shows the bot invited (its join lies before
    /// the timeline window): a room in `join` counts the bot as a member all
    /// the same, so a room of the bot and one user is their direct room.
    @Test func theBotIsAMemberOfEveryJoinedRoomWithoutItsOwnJoinEvent() {
        var book = book()
        let out = book.apply(sync("!two:example.org", [
            #"{"type":"m.room.member","state_key":"@x:example.org","sender":"@x:example.org","content":{"membership":"join"}}"#,
        ], state: [
            #"{"type":"m.room.member","state_key":"@switchboard:example.org","sender":"@x:example.org","content":{"membership":"invite"}}"#,
        ]), initial: false)
        #expect(out == [.directRoomLearnt(room: "!two:example.org", user: "@x:example.org")])
        #expect(book.members["!two:example.org"] == ["@switchboard:example.org", "@x:example.org"])
        #expect(book.directRoom(for: "@x:example.org") == "!two:example.org")
    }

    @Test func aForgottenDirectRoomIsNoLongerWrittenTo() {
        var book = book()
        book.forgetDirect(room: Self.dm)
        #expect(book.directRoom(for: "@cust:example.org") == nil)
        #expect(book.directAccountData["@cust:example.org"] == nil)
    }

    @Test func anInviteFromAllowedUsersOrServersOnly() {
        let config = MatrixNetworkConfiguration(homeserver: URL(string: "https://hs")!, userID: "@switchboard:example.org",
                                                credentials: .password("x"), rooms: [],
                                                invitesFrom: ["@vip:partner.example", ":example.org"],
                                                encryptedRoomText: "")
        #expect(config.mayInvite("@anyone:example.org"))
        #expect(config.mayInvite("@vip:partner.example"))
        #expect(!config.mayInvite("@other:partner.example"))
        #expect(!config.mayInvite("@evil:example.org.evil"))
    }
}

/// What goes on the wire: notices, mentions, escaping, transaction ids.
@Suite struct MatrixMessageFormatTests {
    @Test func aTextWithoutMentionsIsAPlainNotice() {
        let content = MatrixMessageFormat.content("Your ticket #42 <b>is</b> open", mentionable: ["@anna:example.org"])
        #expect(content == .object(["msgtype": .string("m.notice"), "body": .string("Your ticket #42 <b>is</b> open")]))
    }

    @Test func aPageMentionsTheAgentWithAPillAndEscapesEverythingTheCustomerWrote() {
        let text = "P1 #42 for @anna:example.org: Acme <script>alert('x')</script> & \"VPN\" down\nsecond line"
        let content = MatrixMessageFormat.content(text, mentionable: ["@anna:example.org", "@bob:example.org"])
        #expect(content["msgtype"] == .string("m.text"))
        #expect(content["body"] == .string(text))
        #expect(content["m.mentions"] == .object(["user_ids": .array([.string("@anna:example.org")])]))
        #expect(content["format"] == .string("org.matrix.custom.html"))
        #expect(content["formatted_body"] == .string(
            "P1 #42 for <a href=\"https://matrix.to/#/%40anna%3Aexample.org\">@anna:example.org</a>: Acme "
                + "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;VPN&quot; down<br>second line"))
    }

    @Test func aPrivatePageThatNamesNoOneStillNotifiesTheAgent() {
        let content = MatrixMessageFormat.content("P1 #42 Kieler Werft AG: VPN down", mentionable: ["@anna:example.org"],
                                                  alert: ["@anna:example.org"])
        #expect(content["msgtype"] == .string("m.text"))
        #expect(content["m.mentions"] == .object(["user_ids": .array([.string("@anna:example.org")])]))
        #expect(content["formatted_body"] == nil)
    }

    @Test func onlyMembersAreMentionedSoACustomerCannotPingAnyoneByWritingAnID() {
        let content = MatrixMessageFormat.content("summary: call @boss:example.org now", mentionable: ["@anna:example.org"])
        #expect(content["msgtype"] == .string("m.notice"))
        #expect(content["m.mentions"] == nil)
    }

    @Test func userIDsAreFoundWithoutTheSentencesPunctuation() {
        #expect(MatrixMessageFormat.userIDs(in: "ping @anna:example.org, @b.o-b:hs.example:8448. mail a@b") ==
            ["@anna:example.org", "@b.o-b:hs.example:8448"])
    }

    @Test func controlCharactersNeverReachTheWire() {
        #expect(MatrixMessageFormat.sanitized("a\u{0}b\u{1B}[31mc\r\nd\re\u{85}f\tg") == "ab[31mc\nd\nef\tg")
    }

    @Test func aPagesTransactionIDDependsOnlyOnItsOutboxIDSoARestartResendIsOneEvent() {
        let first = MatrixMessageFormat.transactionID(deliveryID: 17, run: "run1", sequence: 3)
        let afterRestart = MatrixMessageFormat.transactionID(deliveryID: 17, run: "run2", sequence: 99)
        #expect(first == afterRestart)
        #expect(first != MatrixMessageFormat.transactionID(deliveryID: 18, run: "run1", sequence: 3))
        #expect(MatrixMessageFormat.transactionID(deliveryID: nil, run: "run1", sequence: 3)
            != MatrixMessageFormat.transactionID(deliveryID: nil, run: "run1", sequence: 4))
    }
}
