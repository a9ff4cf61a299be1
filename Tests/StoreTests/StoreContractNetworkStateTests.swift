import Desk
import Foundation
import Testing

/// What a network adapter keeps across restarts (the Matrix `/sync`
/// position and device id): per network and key, replaced on write,
/// durable across a reopen.
@Suite struct StoreContractNetworkStateTests {
    @Test(arguments: StoreContract.implementations)
    func aValueIsKeptPerNetworkAndKeyAndSurvivesAReopen(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, reopen async throws in
            #expect(try await store.networkState(network: "matrix", key: "since") == nil)
            try await store.setNetworkState(network: "matrix", key: "since", value: "s1_2_3")
            try await store.setNetworkState(network: "matrix", key: "device", value: "ABCDEF")
            try await store.setNetworkState(network: "other", key: "since", value: "x")
            try await store.setNetworkState(network: "matrix", key: "since", value: "s9_9_9")
            let reopened = try await reopen()
            #expect(try await reopened.networkState(network: "matrix", key: "since") == "s9_9_9")
            #expect(try await reopened.networkState(network: "matrix", key: "device") == "ABCDEF")
            #expect(try await reopened.networkState(network: "other", key: "since") == "x")
            #expect(try await reopened.networkState(network: "other", key: "device") == nil)
        }
    }

    @Test(arguments: StoreContract.implementations)
    func valuesAreStoredAsGivenWhateverTheyContain(_ implementation: StoreUnderTest) async throws {
        try await StoreContract.with(implementation) { store, _ async throws in
            let odd = "'; DROP TABLE network_state; -- ünïcödé\n"
            try await store.setNetworkState(network: "m'x", key: odd, value: odd)
            #expect(try await store.networkState(network: "m'x", key: odd) == odd)
            #expect(try await store.networkState(network: "M'X", key: odd) == nil)
        }
    }
}
