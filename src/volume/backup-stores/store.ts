/** A backup as its store needs it: the volume it copies, and where the store put it (null until written). */
export interface BackupRef {
  id: string;
  volumeId: string;
  location: string | null;
}

/**
 * Where volume backups are kept, apart from the volumes (the Ceph `backups` pool, or files under
 * the data directory). Every method is idempotent and safe to call again after a crash.
 */
export interface BackupStore {
  /** The store's name as backups record it (rbd, file). */
  readonly name: string;
  /** What the API shows as each backup's `container`. */
  readonly container: string;
  /**
   * Copies the volume's current bytes. With a parent (the volume's last backup), only what changed
   * since it is copied when the store can tell; otherwise the whole volume is. Returns the backup's
   * location. A failure leaves nothing of this backup behind.
   */
  backup(backup: { id: string; volumeId: string }, parent?: BackupRef): Promise<string>;
  /** Writes the backup's bytes over the start of the volume, which is at least the backup's size;
   * fresh: the volume was just made and reads zeros. */
  restore(backup: BackupRef, volumeId: string, fresh: boolean): Promise<void>;
  /** Removes the backup's bytes (and what it kept on its volume); gone is no error. */
  delete(backup: BackupRef): Promise<void>;
  /** Fails with CephUnavailableError (503) when the store cannot be reached. */
  probe(): Promise<void>;
}
