// Real storage faults for the gateway's tests: a small tmpfs (a full disk that is really full:
// writes fail with ENOSPC, which SQLite reports as SQLITE_FULL) and byte flips in a database file.
// Mounting needs root or CAP_SYS_ADMIN (CI runs as root); without it `mountTmpfs` answers undefined
// and the caller skips, saying why.
import { execFileSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statfsSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Tmpfs = {
  dir: string;
  /** Fills the filesystem up to `leaveBytes` free with a filler file; `free()` removes it. */
  fill(leaveBytes: number): void;
  /** Removes the filler file: the space comes back. */
  free(): void;
  /** Free bytes now (statfs). */
  available(): number;
  /** Remounts read-only (as ext4 does after I/O errors with errors=remount-ro) or read-write again. */
  remount(readOnly: boolean): void;
  unmount(): void;
};

/** Mounts a tmpfs of `sizeKb` KiB on a fresh folder; undefined when this process may not mount. */
export function mountTmpfs(sizeKb: number): Tmpfs | undefined {
  const dir = mkdtempSync(join(tmpdir(), "iomt-full-disk-"));
  try {
    execFileSync("mount", ["-t", "tmpfs", "-o", `size=${sizeKb}k,mode=0700`, "tmpfs", dir], { stdio: "pipe" });
  } catch {
    rmSync(dir, { recursive: true, force: true });
    return undefined;
  }
  const filler = join(dir, "filler");
  const available = () => {
    const { bavail, bsize } = statfsSync(dir);
    return bavail * bsize;
  };
  return {
    dir,
    available,
    fill(leaveBytes) {
      const fd = openSync(filler, "a");
      const chunk = Buffer.alloc(4096, 0x5a);
      try {
        while (available() > leaveBytes) writeSync(fd, chunk, 0, Math.min(chunk.length, Math.max(1, available() - leaveBytes)));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      } finally {
        closeSync(fd);
      }
    },
    free() {
      writeFileSync(filler, "");
      rmSync(filler, { force: true });
    },
    remount(readOnly) {
      execFileSync("mount", ["-o", `remount,${readOnly ? "ro" : "rw"}`, dir], { stdio: "pipe" });
    },
    unmount() {
      try {
        execFileSync("umount", ["-l", dir], { stdio: "pipe" });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** XORs `length` bytes at `offset` of `path` with 0xff. */
export function flipBytes(path: string, offset: number, length: number): void {
  const fd = openSync(path, "r+");
  try {
    const bytes = Buffer.alloc(length);
    readSync(fd, bytes, 0, length, offset);
    for (let i = 0; i < length; i++) bytes[i] ^= 0xff;
    writeSync(fd, bytes, 0, length, offset);
  } finally {
    closeSync(fd);
  }
}

/**
 * Corrupts the b-tree pages of a database file (closed, checkpointed): flips the first 16 bytes of
 * every page after the first, where each page keeps its type, free-block and cell pointers.
 * SQLite keeps no checksums, so flipped bytes inside a record are invisible to any check; page
 * structure is what quick_check reads.
 */
export function corruptPages(path: string): void {
  const header = Buffer.alloc(100);
  const fd = openSync(path, "r");
  readSync(fd, header, 0, 100, 0);
  closeSync(fd);
  const pageSize = header.readUInt16BE(16) === 1 ? 65_536 : header.readUInt16BE(16);
  const pages = Math.floor(statSync(path).size / pageSize);
  for (let page = 1; page < pages; page++) flipBytes(path, page * pageSize, 16);
}
