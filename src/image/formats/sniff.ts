import { badRequest } from '../../lib/errors.ts';
import { HEAD_BYTES, MAX_READ, type DetectedFormat, type Detection, type Inspector, type Read } from './inspector.ts';
import { qcow2 } from './qcow2.ts';
import { vmdk } from './vmdk.ts';
import { vhd } from './vhd.ts';
import { vhdx } from './vhdx.ts';
import { vdi } from './vdi.ts';
import { iso } from './iso.ts';
import { luks, qed } from './others.ts';

const INSPECTORS: Record<DetectedFormat, Inspector> = { qcow2, vmdk, vhd, vhdx, vdi, iso, qed, luks };

/** Declared formats that are plain disk bytes: any data that is no container format fits them,
 * an ISO volume included (it is sectors, read as such). */
const RAW_LIKE = new Set(['raw', 'ami', 'ari', 'aki']);
const TAIL_BYTES = 1024;

interface Running {
  format: DetectedFormat;
  gen: ReturnType<Inspector>;
  want: Read;
  buf: Buffer;
  have: number;
}

export interface SniffRule {
  /** The image's disk_format. */
  declared: string;
  /** Whether the data must be a disk of that format; false for containers (ova, docker…), whose
   * bytes are not the disk itself and are only checked for what is never acceptable. */
  strict: boolean;
}

/**
 * Runs every format inspector over an upload as it streams by, keeping only the first
 * HEAD_BYTES, the last TAIL_BYTES and the few ranges inspectors ask for. push() throws a
 * BadRequest as soon as the data is known to be refused, so that an upload stops early.
 */
export class FormatSniffer {
  private position = 0;
  private readonly head = Buffer.alloc(HEAD_BYTES);
  private last = Buffer.alloc(0);
  private chunk?: { start: number; data: Buffer };
  private running: Running[] = [];
  private readonly found: Detection[] = [];
  private readonly ruledOut = new Set<DetectedFormat>();

  constructor(private readonly rule: SniffRule) {
    for (const [format, inspector] of Object.entries(INSPECTORS) as [DetectedFormat, Inspector][]) {
      const gen = inspector();
      this.step({ format, gen, want: { offset: 0, length: 0 }, buf: Buffer.alloc(0), have: 0 }, undefined);
    }
  }

  push(data: Buffer): void {
    const start = this.position;
    this.position += data.length;
    if (start < HEAD_BYTES) data.copy(this.head, start, 0, HEAD_BYTES - start);
    this.last = Buffer.concat([this.last, data.subarray(-TAIL_BYTES)]).subarray(-TAIL_BYTES);
    this.chunk = { start, data };
    this.advance(false);
    this.chunk = undefined;
    this.judge(false);
  }

  /** The verdict once the whole upload has been pushed: the disk's virtual size, when known. */
  finish(): { virtualSize?: number } {
    this.advance(true);
    this.judge(true);
    if (!this.rule.strict) return {};
    if (RAW_LIKE.has(this.rule.declared)) return { virtualSize: this.position };
    return { virtualSize: this.found.find((d) => d.format === this.rule.declared)?.virtualSize ?? this.position };
  }

  /** Feeds every running inspector what it can get now; at the end, short reads for the rest. */
  private advance(atEnd: boolean): void {
    let progressed = true;
    while (progressed) {
      progressed = false;
      for (const r of [...this.running]) {
        if ('tail' in r.want) {
          if (atEnd) progressed = this.step(r, this.last.subarray(-Math.min(r.want.tail, this.position)));
          continue;
        }
        const state = this.fill(r, r.want);
        if (state === 'done') progressed = this.step(r, r.buf);
        else if (state === 'missed') progressed = this.conclude(r, { format: r.format, unsafe: `its ${r.format} structures could not be inspected in order` });
        else if (atEnd) progressed = this.step(r, r.buf.subarray(0, r.have));
      }
    }
  }

  private fill(r: Running, want: { offset: number; length: number }): 'done' | 'waiting' | 'missed' {
    while (r.have < want.length) {
      const at = want.offset + r.have;
      const end = want.offset + want.length;
      if (at < Math.min(this.position, HEAD_BYTES)) {
        r.have += this.head.copy(r.buf, r.have, at, Math.min(end, this.position, HEAD_BYTES));
      } else if (this.chunk && at >= this.chunk.start && at < this.chunk.start + this.chunk.data.length) {
        const from = at - this.chunk.start;
        r.have += this.chunk.data.copy(r.buf, r.have, from, from + (end - at));
      } else {
        return at < this.position ? 'missed' : 'waiting';
      }
    }
    return 'done';
  }

  /** Resumes an inspector with the bytes it asked for; true once it has moved on. */
  private step(r: Running, bytes: Buffer | undefined): boolean {
    let next: IteratorResult<Read, Detection | undefined>;
    try {
      next = r.gen.next(bytes as Buffer);
    } catch {
      return this.conclude(r, { format: r.format, unsafe: `its ${r.format} header could not be read` });
    }
    if (next.done) return this.conclude(r, next.value);
    const want = next.value;
    if ('length' in want && want.length > MAX_READ) return this.conclude(r, { format: r.format, unsafe: `its ${r.format} header asks to read too much` });
    if (!this.running.includes(r)) this.running.push(r);
    Object.assign(r, { want, buf: Buffer.alloc('length' in want ? want.length : 0), have: 0 });
    return true;
  }

  private conclude(r: Running, detection: Detection | undefined): true {
    this.running = this.running.filter((x) => x !== r);
    if (detection) this.found.push(detection);
    else this.ruledOut.add(r.format);
    return true;
  }

  /** Refuses as soon as the evidence allows: anything unsafe, data of several formats at once, or
   * data of another format than declared; at the end, also data that is not what was declared. */
  private judge(atEnd: boolean): void {
    const unsafe = this.found.find((d) => d.unsafe);
    if (unsafe) throw badRequest(`The image data is refused: ${unsafe.unsafe}.`);
    if (!this.rule.strict) return;
    const { declared } = this.rule;
    const formats = this.found.map((d) => d.format);
    const mismatch = (why: string) =>
      badRequest(`The image data does not match disk_format ${declared}: ${why}. (An operator can turn this check off for ${declared} images with the setting image_format_check_skip.)`);
    if (formats.length > 1) throw mismatch(`it is at once ${formats.join(' and ')}`);
    const seen = formats[0];
    if (seen && seen !== declared && !(RAW_LIKE.has(declared) && seen === 'iso')) throw mismatch(`it is ${seen}`);
    const expected = declared as DetectedFormat;
    if (!RAW_LIKE.has(declared) && !seen && (this.ruledOut.has(expected) || atEnd)) throw mismatch(`it is not ${declared}`);
  }
}
