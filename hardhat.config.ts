import { createRequire } from "node:module";
import hardhatIgnitionViem from "@nomicfoundation/hardhat-ignition-viem";
import hardhatMocha from "@nomicfoundation/hardhat-mocha";
import hardhatNetworkHelpers from "@nomicfoundation/hardhat-network-helpers";
import hardhatViem from "@nomicfoundation/hardhat-viem";
import hardhatViemAssertions from "@nomicfoundation/hardhat-viem-assertions";
import { configVariable, defineConfig } from "hardhat/config";

const require = createRequire(import.meta.url);

// Two EVM targets from one source tree: the default (Cancun) and `london` for pre-Shanghai
// proof-of-authority clients (no PUSH0, no MCOPY). IOMT_EVM=london switches the compiler target,
// the simulated network's hardfork and the output folders, so both builds can live side by side.
const evmTarget = process.env.IOMT_EVM === "london" ? "london" : "cancun";
const isLondon = evmTarget === "london";

export default defineConfig({
  plugins: [
    hardhatViem,
    hardhatViemAssertions,
    hardhatMocha,
    hardhatIgnitionViem,
    hardhatNetworkHelpers,
  ],
  solidity: {
    // Offline: solc-js from the npm `solc` package (its version must equal `version`).
    version: "0.8.28",
    path: require.resolve("solc/soljson.js"),
    settings: {
      evmVersion: evmTarget,
      viaIR: true,
      optimizer: { enabled: true, runs: 1_000_000 },
    },
  },
  paths: {
    artifacts: isLondon ? "./artifacts-london" : "./artifacts",
    cache: isLondon ? "./cache-london" : "./cache",
  },
  networks: {
    default: {
      type: "edr-simulated",
      chainType: "l1",
      hardfork: evmTarget,
    },
    poa: {
      type: "http",
      chainType: "l1",
      url: configVariable("RPC_URL"),
      accounts: [configVariable("DEPLOYER_PRIVATE_KEY")],
    },
  },
  test: {
    mocha: { timeout: 120_000 },
  },
});
