// Reference figures for comparable operations of other systems, measured by the team when the
// contracts were built (not by these scripts), quoted verbatim. `ours` names the operation of
// scripts/gas-report.ts each one is set beside.
export const REFERENCES = [
  { ours: "associate", reference: "EAS `attest` 248.7k", gas: 248_700, approximate: false },
  { ours: "associate", reference: "Semaphore `addMember` ~134k (its published benchmark)", gas: 134_000, approximate: true },
  { ours: "associate", reference: "minimal Bubbles-of-Trust-style binding with no AuthTable 75.4k", gas: 75_400, approximate: false },
  { ours: "associateBySig", reference: "EAS `attestByDelegation` 281.9k", gas: 281_900, approximate: false },
  { ours: "associateBatchBySig", reference: "EAS `multiAttest` ~210k per item", gas: 210_000, approximate: true },
  { ours: "revokeFirst", reference: "EAS `revoke` 68.2k", gas: 68_200, approximate: false },
  { ours: "revokeNext", reference: "EAS `revoke` 68.2k", gas: 68_200, approximate: false },
] as const;
