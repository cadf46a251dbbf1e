// Types of cdktf's Jest matchers (registered at run time by Testing.setupJest() in test/setup.ts).
import "cdktf/lib/testing/adapters/jest";
