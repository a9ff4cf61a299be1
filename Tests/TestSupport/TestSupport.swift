// Shared by the test targets: fixtures for real servers and small helpers.
import Foundation
