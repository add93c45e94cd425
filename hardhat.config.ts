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

const compiler = {
  // Offline: solc-js from the npm `solc` package (its version must equal `version`).
  version: "0.8.28",
  path: require.resolve("solc/soljson.js"),
  settings: {
    evmVersion: evmTarget,
    viaIR: true,
    optimizer: { enabled: true, runs: 1_000_000 },
  },
};

export default defineConfig({
  plugins: [
    hardhatViem,
    hardhatViemAssertions,
    hardhatMocha,
    hardhatIgnitionViem,
    hardhatNetworkHelpers,
  ],
  // The same compiler settings for every build profile: `production` (what `ignition deploy`
  // uses) must deploy exactly the bytecode the tests and gas figures measured, for the chosen target.
  solidity: {
    profiles: {
      default: compiler,
      production: compiler,
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
    // A private proof-of-authority chain, configured from the environment (see `./iomt deploy`):
    // IOMT_RPC_URL, IOMT_CHAIN_ID (checked against the node) and IOMT_DEPLOYER_KEY. Zero-fee
    // chains need nothing more: Ignition sends zero fees when the latest block's base fee is 0.
    poa: {
      type: "http",
      chainType: "l1",
      url: configVariable("IOMT_RPC_URL"),
      accounts: [configVariable("IOMT_DEPLOYER_KEY")],
      ...(process.env.IOMT_CHAIN_ID === undefined ? {} : { chainId: Number(process.env.IOMT_CHAIN_ID) }),
    },
  },
  // PoA chains (QBFT, Clique) finalise a block when it is sealed: one confirmation is enough.
  ignition: { requiredConfirmations: Number(process.env.IOMT_CONFIRMATIONS ?? 1) },
  test: {
    mocha: { timeout: 120_000 },
  },
});
