import COpenSSL
import Glibc
import Synchronization

/// How a client connection is secured.
public enum TransportSecurity: Sendable, Equatable {
    /// Plain TCP.
    case plain
    /// TLS (1.2 or newer) with these options; `.tls(TLSOptions())` verifies
    /// the server's certificate and host name against the system CA store.
    case tls(TLSOptions)
}

/// TLS client settings. The defaults are the safe ones: the peer's
/// certificate chain is verified against the system CA store
/// (`SSL_CTX_set_default_verify_paths`) and its name against the host we
/// connect to (RFC 6125, via `SSL_set1_host`), SNI is sent (RFC 6066 §3),
/// and nothing older than TLS 1.2 is offered.
public struct TLSOptions: Sendable, Equatable {
    /// Verify the certificate chain and host name (default). `false` accepts
    /// any certificate, which lets anyone on the path read and change the
    /// traffic; every connection made that way logs a warning.
    public var verifyPeer: Bool
    /// The name to verify the certificate against and to send as SNI.
    /// Default: the host passed to `connect`. For a numeric address the
    /// certificate must carry that IP address, and no SNI is sent.
    public var serverName: String?
    /// A PEM file of trusted CA certificates, used *instead of* the system
    /// store (for a network with its own CA, or tests).
    public var caFile: String?
    /// A PEM file with our client certificate (and any intermediates),
    /// presented when the server asks — for SASL EXTERNAL / CertFP.
    public var clientCertificateFile: String?
    /// The PEM private key of the client certificate. Default: read from
    /// `clientCertificateFile` (a combined PEM file).
    public var clientKeyFile: String?

    public init(
        verifyPeer: Bool = true,
        serverName: String? = nil,
        caFile: String? = nil,
        clientCertificateFile: String? = nil,
        clientKeyFile: String? = nil
    ) {
        self.verifyPeer = verifyPeer
        self.serverName = serverName
        self.caFile = caFile
        self.clientCertificateFile = clientCertificateFile
        self.clientKeyFile = clientKeyFile
    }

    /// No verification at all (see `verifyPeer`). Logs a warning on every use.
    public static var insecureNoVerify: TLSOptions { TLSOptions(verifyPeer: false) }
}

/// What the TLS handshake settled on.
public struct TLSSessionInfo: Sendable, Equatable, CustomStringConvertible {
    /// `"TLSv1.3"`, `"TLSv1.2"`.
    public let protocolVersion: String
    /// The cipher suite, e.g. `"TLS_AES_256_GCM_SHA384"`.
    public let cipher: String
    /// The peer certificate's subject (`"/CN=irc.example"`), if it sent one.
    public let peerSubject: String?

    public var description: String {
        "\(protocolVersion) \(cipher)" + (peerSubject.map { " peer=\($0)" } ?? "")
    }
}

/// One client-side OpenSSL session over a non-blocking socket.
///
/// OpenSSL talks to the socket through our own BIO, which sends with
/// `MSG_NOSIGNAL` (so a peer that went away gives EPIPE, never SIGPIPE) and
/// remembers the errno of its last failing call. An `SSL` object must not be
/// used from two threads at once, so every call into it holds `handle`'s
/// lock; the calls never block (the socket is non-blocking), and waiting for
/// readiness happens outside the lock, in `Descriptor.perform`.
final class TLSSession: Sendable {
    private struct Handle: @unchecked Sendable {
        let context: OpaquePointer
        let ssl: OpaquePointer
        let bio: UnsafeMutablePointer<BIOContext>
    }

    private let handle: Mutex<Handle>
    let verifiesPeer: Bool

    /// Builds the context and session for `fd`. `name` is the server name to
    /// verify and send as SNI.
    init(options: TLSOptions, name: String, fd: Int32, operation: String) throws {
        guard options.clientKeyFile == nil || options.clientCertificateFile != nil else {
            throw TransportError.invalidArgument(
                operation: operation, reason: "a client key file was given without a client certificate file")
        }
        ERR_clear_error()
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSSession.error("\(operation): create TLS context")
        }
        var ownsContext = true
        defer { if ownsContext { SSL_CTX_free(context) } }

        guard shim_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION) == 1 else {
            throw TLSSession.error("\(operation): set TLS 1.2 minimum")
        }
        // Many IRC servers close without close_notify; treat that as the
        // end of the stream (a torn line is dropped by the line reader).
        SSL_CTX_set_options(context, shim_SSL_OP_IGNORE_UNEXPECTED_EOF())
        // Partial writes: SSL_write returns per record, and the retry of a
        // write that would block may pass a moved buffer (Swift arrays move).
        _ = shim_SSL_CTX_set_mode(
            context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE) | Int(SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))

        if options.verifyPeer {
            SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
            if let caFile = options.caFile {
                guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                    throw TLSSession.error("\(operation): load CA file \(caFile)")
                }
            } else {
                guard SSL_CTX_set_default_verify_paths(context) == 1 else {
                    throw TLSSession.error("\(operation): load the system CA store")
                }
            }
        } else {
            SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nil)
        }

        if let certificate = options.clientCertificateFile {
            let key = options.clientKeyFile ?? certificate
            guard SSL_CTX_use_certificate_chain_file(context, certificate) == 1 else {
                throw TLSSession.error("\(operation): load client certificate \(certificate)")
            }
            guard SSL_CTX_use_PrivateKey_file(context, key, SSL_FILETYPE_PEM) == 1 else {
                throw TLSSession.error("\(operation): load client key \(key)")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                throw TLSSession.error("\(operation): client key \(key) does not match certificate \(certificate)")
            }
        }

        guard let ssl = SSL_new(context) else { throw TLSSession.error("\(operation): create TLS session") }
        var ownsSSL = true
        defer { if ownsSSL { SSL_free(ssl) } }

        let numeric = SocketAddress.isNumeric(name)
        if !numeric {
            // RFC 6066 §3: SNI carries DNS names only, never IP literals.
            guard shim_SSL_set_tlsext_host_name(ssl, name) == 1 else {
                throw TLSSession.error("\(operation): set SNI name \(name)")
            }
        }
        if options.verifyPeer {
            let set = numeric
                ? X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name)
                : SSL_set1_host(ssl, name)
            guard set == 1 else { throw TLSSession.error("\(operation): set the name to verify (\(name))") }
        }

        guard let bio = BIO_new(SocketBIO.method.pointer) else {
            throw TLSSession.error("\(operation): create socket BIO")
        }
        let bioContext = UnsafeMutablePointer<BIOContext>.allocate(capacity: 1)
        bioContext.initialize(to: BIOContext(fd: fd, lastErrno: 0))
        BIO_set_data(bio, bioContext)
        BIO_set_init(bio, 1)
        SSL_set_bio(ssl, bio, bio)  // one reference, owned by ssl from here
        SSL_set_connect_state(ssl)

        ownsContext = false
        ownsSSL = false
        handle = Mutex(Handle(context: context, ssl: ssl, bio: bioContext))
        verifiesPeer = options.verifyPeer
    }

    deinit {
        handle.withLock { handle in
            SSL_free(handle.ssl)  // frees the BIO, whose destroy frees bioContext
            SSL_CTX_free(handle.context)
        }
    }

    /// One step of the handshake (`SSL_connect`).
    func handshakeStep(_ operation: String) throws -> IOStep<Void> {
        try handle.withLock { handle in
            prepare(handle)
            let result = SSL_connect(handle.ssl)
            if result == 1 { return .done(()) }
            return try step(handle, result: result, operation: operation, handshake: true) { _ in () }
        }
    }

    /// One `SSL_read` into `buffer`: `.done(0)` is the end of the stream.
    func readStep(into buffer: UnsafeMutableRawBufferPointer, _ operation: String) throws -> IOStep<Int> {
        try handle.withLock { handle in
            prepare(handle)
            let result = SSL_read(handle.ssl, buffer.baseAddress, Int32(clamping: buffer.count))
            if result > 0 { return .done(Int(result)) }
            return try step(handle, result: result, operation: operation, handshake: false) { _ in 0 }
        }
    }

    /// One `SSL_write` of (a prefix of) `bytes`; returns how many were taken.
    func writeStep(from bytes: UnsafeRawBufferPointer, _ operation: String) throws -> IOStep<Int> {
        try handle.withLock { handle in
            prepare(handle)
            let result = SSL_write(handle.ssl, bytes.baseAddress, Int32(clamping: bytes.count))
            if result > 0 { return .done(Int(result)) }
            return try step(handle, result: result, operation: operation, handshake: false) { _ in
                throw TransportError.unexpectedEndOfStream(operation: operation)
            }
        }
    }

    /// Sends close_notify if the handshake finished and the socket takes it
    /// now; never waits. Errors are ignored (best effort).
    func shutdown() {
        handle.withLock { handle in
            prepare(handle)
            if SSL_is_init_finished(handle.ssl) == 1 {
                _ = SSL_shutdown(handle.ssl)
            }
            ERR_clear_error()
        }
    }

    /// The negotiated version, cipher and peer subject.
    var info: TLSSessionInfo {
        handle.withLock { handle in
            let version = SSL_get_version(handle.ssl).map { String(cString: $0) } ?? "unknown"
            let cipher = SSL_get_current_cipher(handle.ssl).flatMap { SSL_CIPHER_get_name($0) }
                .map { String(cString: $0) } ?? "unknown"
            var subject: String?
            if let certificate = SSL_get1_peer_certificate(handle.ssl) {
                if let name = X509_get_subject_name(certificate), let text = X509_NAME_oneline(name, nil, 0) {
                    subject = String(cString: text)
                    CRYPTO_free(text, #fileID, #line)
                }
                X509_free(certificate)
            }
            return TLSSessionInfo(protocolVersion: version, cipher: cipher, peerSubject: subject)
        }
    }

    private func prepare(_ handle: Handle) {
        // The error queue is per thread and tasks hop threads: start clean.
        ERR_clear_error()
        handle.bio.pointee.lastErrno = 0
    }

    /// Interprets a failed SSL call (`SSL_get_error`).
    private func step<Value>(
        _ handle: Handle, result: Int32, operation: String, handshake: Bool,
        onZeroReturn: (String) throws -> Value
    ) throws -> IOStep<Value> {
        let code = SSL_get_error(handle.ssl, result)
        switch code {
        case SSL_ERROR_WANT_READ:
            return .wait(.read)
        case SSL_ERROR_WANT_WRITE:
            return .wait(.write)
        case SSL_ERROR_ZERO_RETURN:
            if handshake { throw TransportError.unexpectedEndOfStream(operation: operation) }
            return .done(try onZeroReturn(operation))
        case SSL_ERROR_SYSCALL:
            let socketErrno = handle.bio.pointee.lastErrno
            if socketErrno == EINTR { return .retry }
            if socketErrno != 0 { throw TransportError.posix(operation, errno: socketErrno) }
            if let queue = TLSSession.errorQueueText() {
                throw TransportError.tls(operation: operation, reason: queue, verifyResult: nil)
            }
            // EOF from the socket without close_notify.
            if handshake { throw TransportError.unexpectedEndOfStream(operation: operation) }
            return .done(try onZeroReturn(operation))
        default:
            let queue = TLSSession.errorQueueText()
            if handshake && verifiesPeer {
                let verify = SSL_get_verify_result(handle.ssl)
                if verify != X509_V_OK {
                    let text = String(cString: X509_verify_cert_error_string(verify))
                    throw TransportError.tls(
                        operation: operation, reason: "certificate verify failed: \(text)", verifyResult: text)
                }
            }
            throw TransportError.tls(
                operation: operation, reason: queue ?? "TLS error (SSL_get_error \(code))", verifyResult: nil)
        }
    }

    /// A `.tls` error with the error queue's text.
    static func error(_ operation: String) -> TransportError {
        .tls(operation: operation, reason: errorQueueText() ?? loadErrorText() ?? "unknown OpenSSL error",
             verifyResult: nil)
    }

    /// Why libssl could not be loaded (it is loaded on first use), or nil.
    static func loadErrorText() -> String? {
        shim_ssl_load_error().map { "OpenSSL could not be loaded: \(String(cString: $0))" }
    }

    /// Drains this thread's OpenSSL error queue into one line, or nil if empty.
    static func errorQueueText() -> String? {
        var entries: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            ERR_error_string_n(code, &buffer, buffer.count)
            entries.append(string(fromCString: buffer))
        }
        return entries.isEmpty ? nil : entries.joined(separator: "; ")
    }
}

/// What our BIO needs: the socket and the errno of its last failed call.
struct BIOContext {
    var fd: Int32
    var lastErrno: Int32
}

/// A BIO over a socket that uses `send(MSG_NOSIGNAL)` / `recv` (OpenSSL's own
/// socket BIO uses `write`, which raises SIGPIPE on a closed peer).
enum SocketBIO {
    struct Method: @unchecked Sendable {  // immutable once built
        let pointer: OpaquePointer
    }

    static let method: Method = {
        let type = BIO_get_new_index() | BIO_TYPE_SOURCE_SINK
        guard let method = BIO_meth_new(type, "switchboard socket") else {
            fatalError("BIO_meth_new failed: \(TLSSession.errorQueueText() ?? "")")
        }
        BIO_meth_set_write(method) { bio, data, length -> Int32 in
            guard let bio, let context = SocketBIO.context(bio) else { return -1 }
            BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY)
            let sent = send(context.pointee.fd, data, Int(length), Int32(MSG_NOSIGNAL))
            if sent >= 0 { return Int32(sent) }
            let code = errno
            context.pointee.lastErrno = code
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR {
                BIO_set_flags(bio, BIO_FLAGS_WRITE | BIO_FLAGS_SHOULD_RETRY)
            }
            return -1
        }
        BIO_meth_set_read(method) { bio, data, length -> Int32 in
            guard let bio, let context = SocketBIO.context(bio) else { return -1 }
            BIO_clear_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_WRITE | BIO_FLAGS_IO_SPECIAL | BIO_FLAGS_SHOULD_RETRY)
            let received = recv(context.pointee.fd, data, Int(length), 0)
            if received >= 0 { return Int32(received) }
            let code = errno
            context.pointee.lastErrno = code
            if code == EAGAIN || code == EWOULDBLOCK || code == EINTR {
                BIO_set_flags(bio, BIO_FLAGS_READ | BIO_FLAGS_SHOULD_RETRY)
            }
            return -1
        }
        BIO_meth_set_ctrl(method) { _, command, _, _ -> Int in
            command == BIO_CTRL_FLUSH ? 1 : 0
        }
        BIO_meth_set_destroy(method) { bio -> Int32 in
            guard let bio else { return 0 }
            if let context = SocketBIO.context(bio) {
                context.deinitialize(count: 1)
                context.deallocate()
            }
            BIO_set_data(bio, nil)
            return 1
        }
        return Method(pointer: method)
    }()

    static func context(_ bio: OpaquePointer) -> UnsafeMutablePointer<BIOContext>? {
        BIO_get_data(bio)?.assumingMemoryBound(to: BIOContext.self)
    }
}
