// Decorators that bind the actions onto viem clients, registry included:
//   publicClient.extend(iomtPublicActions({ registry }))
//   walletClient.extend(iomtWalletActions({ registry }))
import type { Address, Hex } from "viem";
import { signMessage, signTypedData } from "viem/actions";
import { associate, associateBatchBySig, associateBySig, type AssociateBatchBySigParameters, type AssociateBySigParameters, type AssociateParameters } from "./actions/association.js";
import { fetchTrustedState, verifyAuthPathOnChain, type FetchTrustedStateParameters, type VerifyAuthPathOnChainParameters } from "./actions/auth-path.js";
import {
  anchorBatch,
  getAnchor,
  isAnchorer,
  recordData,
  recordDataBatchBySig,
  recordDataBySig,
  recordExchangeBySig,
  setAnchorer,
  verifyAnchoredMessageOnChain,
  verifyAnchoredSignedMessageOnChain,
  type AnchorBatchParameters,
  type RecordDataBatchBySigParameters,
  type RecordDataBySigParameters,
  type RecordDataParameters,
  type RecordExchangeBySigParameters,
  type SetAnchorerParameters,
  type VerifyAnchoredMessageOnChainParameters,
  type VerifyAnchoredSignedMessageOnChainParameters,
} from "./actions/data.js";
import { getRegistryDomain } from "./actions/domain.js";
import {
  acceptMaster,
  cancelMasterProposal,
  createGroup,
  deactivateGroup,
  getGroup,
  getGroupState,
  getMember,
  getNonce,
  getOid,
  isAuthenticated,
  proposeMaster,
  revoke,
  takeOverGroup,
  type CreateGroupParameters,
  type GetMemberParameters,
  type GetNonceParameters,
  type GetOidParameters,
  type GroupParameters,
  type IsAuthenticatedParameters,
  type ProposeMasterParameters,
  type RevokeParameters,
  type TakeOverGroupParameters,
} from "./actions/groups.js";
import type { ReadClient, RegistryParameter, WriteClient } from "./actions/internal.js";
import { IomtError } from "./errors.js";
import type { Id } from "./ids.js";
import { createAuthTableIndexer, type CreateAuthTableIndexerParameters } from "./indexer.js";
import { issueToken, type IssueTokenParameters, type MessageSigner } from "./tokens.js";
import {
  registryDomain,
  signAssociation,
  signDataMessage,
  signExchange,
  type DataMessage,
  type Exchange,
  type SignAssociationParameters,
  type TypedDataSigner,
} from "./typed-data.js";

/** An action's parameters without `registry`, which the decorator supplies. */
export type WithoutRegistry<T> = T extends unknown ? Omit<T, "registry"> : never;

/** Binds the read actions (and the indexer) of one registry onto a public client. */
export function iomtPublicActions({ registry }: RegistryParameter) {
  return (client: ReadClient) => ({
    getRegistryDomain: () => getRegistryDomain(client, { registry }),
    getGroup: (parameters: WithoutRegistry<GroupParameters>) => getGroup(client, { registry, ...parameters }),
    getGroupState: (parameters: WithoutRegistry<GroupParameters> & { blockNumber?: bigint }) => getGroupState(client, { registry, ...parameters }),
    getMember: (parameters: WithoutRegistry<GetMemberParameters>) => getMember(client, { registry, ...parameters } as GetMemberParameters),
    isAuthenticated: (parameters: WithoutRegistry<IsAuthenticatedParameters>) => isAuthenticated(client, { registry, ...parameters }),
    getNonce: (parameters: WithoutRegistry<GetNonceParameters>) => getNonce(client, { registry, ...parameters }),
    getOid: (parameters: WithoutRegistry<GetOidParameters>) => getOid(client, { registry, ...parameters }),
    getAnchor: (parameters: { gid: Id; root: Hex }) => getAnchor(client, { registry, ...parameters }),
    isAnchorer: (parameters: { gid: Id; anchorer: Address }) => isAnchorer(client, { registry, ...parameters }),
    verifyAnchoredMessageOnChain: (parameters: WithoutRegistry<VerifyAnchoredMessageOnChainParameters>) =>
      verifyAnchoredMessageOnChain(client, { registry, ...parameters }),
    verifyAnchoredSignedMessageOnChain: (parameters: WithoutRegistry<VerifyAnchoredSignedMessageOnChainParameters>) =>
      verifyAnchoredSignedMessageOnChain(client, { registry, ...parameters }),
    fetchTrustedState: (parameters: WithoutRegistry<FetchTrustedStateParameters>) => fetchTrustedState(client, { registry, ...parameters }),
    verifyAuthPathOnChain: (parameters: WithoutRegistry<VerifyAuthPathOnChainParameters>) => verifyAuthPathOnChain(client, { registry, ...parameters }),
    createAuthTableIndexer: (parameters: WithoutRegistry<CreateAuthTableIndexerParameters> = {}) =>
      createAuthTableIndexer(client, { registry, ...parameters }),
  });
}

/** The client's account as a signer, whether it is a local key or an account the node holds. */
function accountSigner(client: WriteClient): MessageSigner & TypedDataSigner {
  const account = client.account;
  return {
    address: account.address,
    signMessage: ({ message }) => signMessage(client, { account, message }),
    signTypedData: (parameters) => signTypedData(client, { account, ...parameters } as never),
  };
}

/**
 * Binds the write actions of one registry onto a wallet client, plus signing with its account:
 * a Master issues tokens, a device signs its association, data messages and exchanges. The domain
 * comes from the client's chain.
 */
export function iomtWalletActions({ registry }: RegistryParameter) {
  return (client: WriteClient) => {
    const signer = accountSigner(client);
    const domain = async () => {
      if (client.chain === undefined) throw new IomtError("ClientWithoutChain", "iomtWalletActions: the wallet client needs a chain to build the EIP-712 domain");
      return registryDomain({ chainId: client.chain.id, registry });
    };
    return {
      createGroup: (parameters: WithoutRegistry<CreateGroupParameters>) => createGroup(client, { registry, ...parameters }),
      revoke: (parameters: WithoutRegistry<RevokeParameters>) => revoke(client, { registry, ...parameters }),
      proposeMaster: (parameters: WithoutRegistry<ProposeMasterParameters>) => proposeMaster(client, { registry, ...parameters }),
      cancelMasterProposal: (parameters: WithoutRegistry<GroupParameters>) => cancelMasterProposal(client, { registry, ...parameters }),
      acceptMaster: (parameters: WithoutRegistry<GroupParameters>) => acceptMaster(client, { registry, ...parameters }),
      takeOverGroup: (parameters: WithoutRegistry<TakeOverGroupParameters>) => takeOverGroup(client, { registry, ...parameters }),
      deactivateGroup: (parameters: WithoutRegistry<GroupParameters>) => deactivateGroup(client, { registry, ...parameters }),
      associate: (parameters: WithoutRegistry<AssociateParameters>) => associate(client, { registry, ...parameters }),
      associateBySig: (parameters: WithoutRegistry<AssociateBySigParameters>) => associateBySig(client, { registry, ...parameters }),
      associateBatchBySig: (parameters: WithoutRegistry<AssociateBatchBySigParameters>) => associateBatchBySig(client, { registry, ...parameters }),
      recordData: (parameters: WithoutRegistry<RecordDataParameters>) => recordData(client, { registry, ...parameters }),
      recordDataBySig: (parameters: WithoutRegistry<RecordDataBySigParameters>) => recordDataBySig(client, { registry, ...parameters }),
      recordDataBatchBySig: (parameters: WithoutRegistry<RecordDataBatchBySigParameters>) => recordDataBatchBySig(client, { registry, ...parameters }),
      recordExchangeBySig: (parameters: WithoutRegistry<RecordExchangeBySigParameters>) => recordExchangeBySig(client, { registry, ...parameters }),
      setAnchorer: (parameters: WithoutRegistry<SetAnchorerParameters>) => setAnchorer(client, { registry, ...parameters }),
      anchorBatch: (parameters: WithoutRegistry<AnchorBatchParameters>) => anchorBatch(client, { registry, ...parameters }),
      issueToken: (parameters: IssueTokenParameters) => issueToken(signer, parameters),
      signAssociation: async (parameters: Omit<SignAssociationParameters, "domain">) => signAssociation(signer, { domain: await domain(), ...parameters }),
      signDataMessage: async (message: DataMessage) => signDataMessage(signer, { domain: await domain(), message }),
      signExchange: async (exchange: Exchange) => signExchange(signer, { domain: await domain(), exchange }),
    };
  };
}
