import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createLogger } from '../../src/lib/log.ts';
import { DetachTimeout, type GuestSpec, type GuestVolume, type VirtDriver } from '../../src/compute/virt/driver.ts';
import { createFakeDriver, type FakeGuest } from '../../src/compute/virt/fake.ts';
import { createQemuDriver } from '../../src/compute/virt/qemu/driver.ts';

// One suite for every virt driver: the fake must behave as the qemu driver does, so that tests
// built on the fake hold for real guests. The qemu guests boot from a 1 MiB raw disk whose boot
// sector prints a line on the serial port, arms the ACPI power button and powers off when it is
// pressed; a blank qcow2 stands for a guest that ignores the button. No NIC anywhere.

const exec = promisify(execFile);
const log = createLogger(process.env.NUBO_TEST_LOG ?? 'silent');
const work = mkdtempSync(join(tmpdir(), 'nubo-virt-'));
const hasQemu = ['/usr/bin/qemu-system-x86_64', '/usr/local/bin/qemu-system-x86_64'].some(existsSync);

/**
 * 16-bit code at 0000:7c00: print "nubo test guest: up" on COM1, set PWRBTN_EN in PM1_EN (0x602,
 * PIIX4 PM at 0x600), halt until PWRBTN_STS shows in PM1_STS (woken by the BIOS timer), print
 * "nubo test guest: power button", then S5 (SLP_EN, SLP_TYP 0) through PM1_CNT (0x604).
 */
const BOOT_SECTOR_CODE =
  'fa31c08ed88ed0bc007cfcbe407ce82300ba0206b80001effbf4ba0006eda9000174f6be567ce80b00ba0406b80020effaf4ebfd' +
  'baf803ac84c07403eeebf8c3' +
  Buffer.from('nubo test guest: up\r\n\0nubo test guest: power button\r\n\0').toString('hex');

function buttonDisk(path: string): void {
  const disk = Buffer.alloc(1 << 20);
  Buffer.from(BOOT_SECTOR_CODE, 'hex').copy(disk);
  disk.writeUInt16LE(0xaa55, 510);
  writeFileSync(path, disk);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) assert.fail(`${what}: not within ${timeoutMs} ms`);
    await sleep(50);
  }
}

/** -U: the file may be open in a running qemu. */
async function qcow2Info(path: string): Promise<Record<string, unknown>> {
  return JSON.parse((await exec('qemu-img', ['info', '-U', '--output=json', path])).stdout) as Record<string, unknown>;
}

/** What the conformance suite needs to know of a driver beyond its interface. */
interface Subject {
  name: string;
  skip: string | false;
  /** A new driver over the subject's one host: a second call is a driver restarted on it. */
  open(): VirtDriver;
  /** Whether the host really has pid running for this guest, asked of the host, not the driver. */
  alive(pid: number, uuid: string): Promise<boolean>;
  /** The console line each boot of the test guest prints. */
  bootLine: string;
  /** Whatever the host holds for guests (files, directories): empty once all are destroyed. */
  leftovers(): string[];
  dir: string;
  /** Makes the guest one that never lets a volume go. */
  keepVolumes(uuid: string): void;
  /** A driver over a second host, the destination of live migrations. */
  openOther(): VirtDriver;
  /** The guest's local root disk on the second host, when the driver has files to look at. */
  otherDisk?: (uuid: string) => string;
}

const fakeHost = new Map<string, FakeGuest>();
const otherFakeHost = new Map<string, FakeGuest>();
const qemuInstances = join(work, 'qemu', 'instances');
const otherQemuInstances = join(work, 'qemu2', 'instances');

const subjects: Subject[] = [
  {
    name: 'fake',
    skip: false,
    open: () => createFakeDriver(fakeHost),
    alive: async (pid, uuid) => fakeHost.get(uuid)?.pid === pid,
    bootLine: ': booted',
    leftovers: () => [...fakeHost.keys()],
    dir: join(work, 'fake'),
    keepVolumes: (uuid) => {
      fakeHost.get(uuid)!.keepsVolumes = true;
    },
    openOther: () => createFakeDriver(otherFakeHost),
  },
  {
    name: 'qemu',
    skip: hasQemu ? false : 'qemu-system-x86_64 is not installed (apt-get install --no-install-recommends qemu-system-x86 qemu-utils)',
    open: () => createQemuDriver({ instancesDir: qemuInstances, log }),
    alive: async (pid, uuid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(uuid),
    bootLine: 'nubo test guest: up',
    leftovers: () => {
      if (!existsSync(qemuInstances)) return [];
      const top = readdirSync(qemuInstances).filter((e) => e !== '_base');
      const bases = existsSync(join(qemuInstances, '_base')) ? readdirSync(join(qemuInstances, '_base')).map((e) => `_base/${e}`) : [];
      return [...top, ...bases];
    },
    dir: join(work, 'qemu'),
    // The boot-sector guest has no operating system to eject a device: it keeps every volume.
    keepVolumes: () => {},
    openOther: () => createQemuDriver({ instancesDir: otherQemuInstances, log }),
    otherDisk: (uuid) => join(otherQemuInstances, uuid, 'disk'),
  },
];

before(async () => {
  await exec('qemu-img', ['--version']).catch(() => assert.fail('qemu-img is missing: apt-get install --no-install-recommends qemu-utils'));
});

after(async () => {
  // Whatever a failed test left running: every qemu whose command line names this test's directory.
  for (const entry of readdirSync('/proc').filter((e) => /^\d+$/.test(e))) {
    const cmdline = (() => {
      try {
        return readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      } catch {
        return '';
      }
    })();
    if (cmdline.startsWith('qemu-system') && cmdline.includes(work)) process.kill(Number(entry), 'SIGKILL');
  }
  rmSync(work, { recursive: true, force: true });
});

for (const s of subjects) {
  describe(`virt driver conformance: ${s.name}`, { skip: s.skip }, () => {
    let d: VirtDriver;
    let a: GuestSpec; // obeys the power button
    let b: GuestSpec; // ignores it
    const boots = async (g: GuestSpec) => (await d.consoleLog(g.uuid)).split(s.bootLine).length - 1;
    /** A guest like a, of an image of its own that both hosts have (as each host's image cache
     * does), for the moves between hosts. */
    const movable = (name: string): GuestSpec => {
      const image = join(s.dir, `${name}.raw`);
      buttonDisk(image);
      return { ...a, uuid: randomUUID(), name, image: { id: randomUUID(), path: image, format: 'raw' } };
    };
    /** Where a move's destination listens (or its source serves): a pair of free-looking ports. */
    const movePort = () => ({ host: '127.0.0.1', port: 40_000 + Math.floor(Math.random() * 10_000) * 2, key: randomBytes(32).toString('hex') });
    const booted = (g: GuestSpec, n: number) => until(`${g.name} booted ${n} times`, async () => (await boots(g)) >= n);

    before(async () => {
      mkdirSync(s.dir, { recursive: true });
      const button = join(s.dir, 'button.raw');
      buttonDisk(button);
      const blank = join(s.dir, 'blank.qcow2');
      await exec('qemu-img', ['create', '-q', '-f', 'qcow2', blank, '64M']);
      const guest = (name: string, image: GuestSpec['image'], rootGiB: number): GuestSpec => ({
        uuid: randomUUID(),
        name,
        vcpus: 1,
        memoryMiB: 64,
        rootGiB,
        image,
        nics: [],
      });
      a = guest('a', { id: randomUUID(), path: button, format: 'raw' }, 0);
      b = guest('b', { id: randomUUID(), path: blank, format: 'qcow2' }, 1);
      d = s.open();
    });

    after(async () => {
      for (const uuid of await d.list()) await d.destroy(uuid);
    });

    test('a guest unknown to the host is nostate and unlisted; destroy and powerOff of it do nothing', async () => {
      const uuid = randomUUID();
      assert.deepEqual(await d.info(uuid), { power: 'nostate' });
      assert.deepEqual(await d.list(), []);
      await d.destroy(uuid);
      await d.powerOff(uuid, 1000);
      assert.deepEqual(await d.info(uuid), { power: 'nostate' });
    });

    test("the host's resources are positive whole numbers", async () => {
      for (const [key, value] of Object.entries(await d.resources())) assert.ok(Number.isInteger(value) && value > 0, `${key}: ${value}`);
    });

    test('spawn starts the guest; spawning it again leaves it as it is', async () => {
      await d.spawn(a);
      const first = await d.info(a.uuid);
      assert.equal(first.power, 'running');
      assert.ok(first.pid && (await s.alive(first.pid, a.uuid)), 'the guest has a live process');
      await d.spawn(a);
      assert.deepEqual(await d.info(a.uuid), first);
      await booted(a, 1);
      const last = await d.consoleLog(a.uuid, 1);
      assert.equal(last.split('\n').filter(Boolean).length, 1, `one line asked, got ${JSON.stringify(last)}`);
    });

    test('pause and unpause keep the process', async () => {
      const { pid } = await d.info(a.uuid);
      await d.pause(a.uuid);
      await d.pause(a.uuid);
      assert.deepEqual(await d.info(a.uuid), { power: 'paused', pid });
      await d.unpause(a.uuid);
      assert.deepEqual(await d.info(a.uuid), { power: 'running', pid });
    });

    test('injectNmi reaches a running guest, which runs on; one that does not run refuses it', async () => {
      const { pid } = await d.info(a.uuid);
      await d.injectNmi(a.uuid);
      assert.deepEqual(await d.info(a.uuid), { power: 'running', pid });
      await assert.rejects(d.injectNmi(randomUUID()), /not running/);
    });

    test('powerOff presses the power button: a guest that obeys is off long before the timeout, its disk kept', async () => {
      const { pid } = await d.info(a.uuid);
      const t0 = performance.now();
      await d.powerOff(a.uuid, 30_000);
      assert.ok(performance.now() - t0 < 10_000, 'the guest shut down by itself');
      assert.deepEqual(await d.info(a.uuid), { power: 'shutdown' });
      assert.equal(await s.alive(pid!, a.uuid).catch(() => false), false);
      assert.deepEqual(await d.list(), [a.uuid]);
      await d.powerOff(a.uuid, 1000);
      await assert.rejects(d.pause(a.uuid), /not running/);
    });

    test('powerOn starts the guest from its disk, even once its image is gone', async () => {
      unlinkSync(a.image!.path!);
      await d.powerOn(a);
      const { power, pid } = await d.info(a.uuid);
      assert.equal(power, 'running');
      assert.ok(pid && (await s.alive(pid, a.uuid)));
      await booted(a, 2);
      await d.powerOn(a);
      assert.equal((await d.info(a.uuid)).pid, pid, 'powerOn of a running guest does nothing');
    });

    test('hard reboot resets the guest in place, and leaves a paused guest running', async () => {
      const { pid } = await d.info(a.uuid);
      await d.reboot(a.uuid, true, 1000);
      assert.deepEqual(await d.info(a.uuid), { power: 'running', pid });
      await booted(a, 3);
      await d.pause(a.uuid);
      await d.reboot(a.uuid, true, 1000);
      assert.deepEqual(await d.info(a.uuid), { power: 'running', pid });
      await booted(a, 4);
    });

    test('soft reboot: the guest shuts down and boots again', async () => {
      const t0 = performance.now();
      await d.reboot(a.uuid, false, 30_000);
      assert.ok(performance.now() - t0 < 10_000, 'the guest shut down by itself');
      assert.equal((await d.info(a.uuid)).power, 'running');
      await booted(a, 5);
    });

    test('snapshot of a running guest: a standalone qcow2 of its disk, and the guest runs on', async () => {
      const before = await d.info(a.uuid);
      const target = join(s.dir, 'a.qcow2');
      await d.snapshot(a.uuid, target);
      const info = await qcow2Info(target);
      assert.equal(info.format, 'qcow2');
      assert.equal(info['backing-filename'], undefined, 'no backing file');
      assert.equal(info['virtual-size'], 1 << 20, "the image's size, as the flavor asks for none");
      await exec('qemu-img', ['check', target]);
      assert.deepEqual(await d.info(a.uuid), before);
      assert.deepEqual(
        readdirSync(s.dir).filter((f) => f.endsWith('.part')),
        [],
      );
    });

    test("suspend saves the guest's memory and ends its process; powerOn resumes it where it was, once", async () => {
      const { pid } = await d.info(a.uuid);
      await d.suspend(a.uuid);
      await d.suspend(a.uuid);
      assert.deepEqual(await d.info(a.uuid), { power: 'shutdown' });
      assert.equal(await s.alive(pid!, a.uuid).catch(() => false), false);
      assert.deepEqual(await d.list(), [a.uuid]);
      await d.powerOn(a);
      const resumed = await d.info(a.uuid);
      assert.equal(resumed.power, 'running');
      assert.ok(resumed.pid && resumed.pid !== pid && (await s.alive(resumed.pid, a.uuid)), 'a new process');
      assert.equal(await boots(a), 5, 'resumed, not booted');
      // The boot sector armed the power button before the save: the restored guest still obeys it.
      const t0 = performance.now();
      await d.powerOff(a.uuid, 30_000);
      assert.ok(performance.now() - t0 < 10_000, 'the resumed guest shut down by itself');
      await d.powerOn(a);
      await booted(a, 6);
    });

    test("a hard reboot of a suspended guest boots it afresh, its saved memory dropped", async () => {
      await d.suspend(a.uuid);
      await d.reboot(a.uuid, true, 1000);
      assert.equal((await d.info(a.uuid)).power, 'running');
      await booted(a, 7);
    });

    test('a guest that ignores the power button is stopped after the timeout', async () => {
      await d.spawn(b);
      assert.equal((await d.info(b.uuid)).power, 'running');
      const t0 = performance.now();
      await d.powerOff(b.uuid, 2000);
      assert.ok(performance.now() - t0 < 15_000);
      assert.deepEqual(await d.info(b.uuid), { power: 'shutdown' });
    });

    test("snapshot of a stopped guest has the flavor's disk size", async () => {
      const target = join(s.dir, 'b.qcow2');
      await d.snapshot(b.uuid, target);
      const info = await qcow2Info(target);
      assert.equal(info['backing-filename'], undefined);
      assert.equal(info['virtual-size'], 2 ** 30);
      assert.deepEqual(await d.info(b.uuid), { power: 'shutdown' });
    });

    test("rescue boots the rescue image in place of the guest's disk; unrescue boots its own disk again", async () => {
      const image = join(s.dir, 'rescue.raw');
      buttonDisk(image);
      const booting = await boots(b);
      const rescue = { ...b, rescue: { id: randomUUID(), path: image, format: 'raw' as const } };
      await d.rescue(rescue);
      const { power, pid } = await d.info(b.uuid);
      assert.equal(power, 'running');
      await booted(b, booting + 1);
      await d.rescue(rescue);
      assert.equal((await d.info(b.uuid)).pid, pid, 'a rescued guest is left as it is');
      await d.unrescue(b);
      const back = await d.info(b.uuid);
      assert.equal(back.power, 'running');
      assert.notEqual(back.pid, pid);
      await d.powerOff(b.uuid, 1000);
    });

    test('resizeDisk keeps the stopped guest\'s disk aside once and grows it; finishResize puts it back (revert) or drops it (confirm)', async () => {
      const size = async () => {
        const target = join(s.dir, 'resized.qcow2');
        await d.snapshot(b.uuid, target);
        const bytes = (await qcow2Info(target))['virtual-size'];
        rmSync(target, { force: true });
        return bytes;
      };
      assert.deepEqual(await d.info(b.uuid), { power: 'shutdown' });
      await d.resizeDisk(b.uuid, 2);
      assert.equal(await size(), 2 * 2 ** 30);
      // Repeated after a crash, even with another size: the copy from before the first call stays.
      await d.resizeDisk(b.uuid, 3);
      assert.equal(await size(), 3 * 2 ** 30);
      await d.finishResize(b.uuid, true);
      assert.equal(await size(), 2 ** 30, 'the disk from before the resize');
      await d.finishResize(b.uuid, true);
      assert.equal(await size(), 2 ** 30, 'nothing kept any more: a second revert does nothing');
      await d.resizeDisk(b.uuid, 2);
      await d.finishResize(b.uuid, false);
      await d.finishResize(b.uuid, true);
      assert.equal(await size(), 2 * 2 ** 30, 'confirmed: nothing left to revert to');
      await d.powerOn({ ...b, rootGiB: 2 });
      await assert.rejects(d.resizeDisk(b.uuid, 4), /running/);
      await d.powerOff(b.uuid, 1000);
    });

    test('list shows exactly the guests on the host, running or not', async () => {
      assert.deepEqual((await d.list()).sort(), [a.uuid, b.uuid].sort());
    });

    describe('volumes', () => {
      const MiB = 2 ** 20;
      const volume = (name: string): GuestVolume => {
        const path = join(s.dir, `${name}.raw`);
        writeFileSync(path, '');
        truncateSync(path, 64 * MiB);
        return { volumeId: randomUUID(), connection: { driver: 'raw', path } };
      };
      let v1: GuestVolume;
      let v2: GuestVolume;

      test('a volume hot-plugged into a running guest is seen at its size; attaching it again does nothing', async () => {
        v1 = volume('v1');
        await d.attachVolume(a.uuid, v1);
        await d.attachVolume(a.uuid, v1);
        assert.deepEqual(await d.attachedVolumes(a.uuid), new Map([[v1.volumeId, 64 * MiB]]));
      });

      test('extendVolume grows an attached volume under the running guest', async () => {
        await d.extendVolume(a.uuid, v1.volumeId, 128 * MiB);
        assert.deepEqual(await d.attachedVolumes(a.uuid), new Map([[v1.volumeId, 128 * MiB]]));
      });

      test('volumes survive a soft reboot, and a stopped guest gets what was attached meanwhile at its next start', async () => {
        await d.reboot(a.uuid, false, 30_000);
        await booted(a, 8);
        assert.deepEqual([...(await d.attachedVolumes(a.uuid)).keys()], [v1.volumeId]);
        await d.powerOff(a.uuid, 30_000);
        assert.deepEqual(await d.attachedVolumes(a.uuid), new Map());
        v2 = volume('v2');
        await d.attachVolume(a.uuid, v2);
        await d.detachVolume(a.uuid, v1.volumeId, 1000);
        // The agent starts a guest with the spec it derives from the records, as here.
        await d.powerOn({ ...a, volumes: [v2] });
        assert.deepEqual(await d.attachedVolumes(a.uuid), new Map([[v2.volumeId, 64 * MiB]]));
        await d.reboot(a.uuid, false, 30_000);
        assert.deepEqual([...(await d.attachedVolumes(a.uuid)).keys()], [v2.volumeId]);
      });

      // On b, which never boots an operating system: with a device_del pending, a's boot sector
      // would no longer see its power button.
      test('a guest that keeps its volume: the detach times out and the volume stays attached', async () => {
        await d.spawn(b);
        s.keepVolumes(b.uuid);
        const v3 = volume('v3');
        await d.attachVolume(b.uuid, v3);
        await assert.rejects(d.detachVolume(b.uuid, v3.volumeId, 1000), DetachTimeout);
        assert.ok((await d.attachedVolumes(b.uuid)).has(v3.volumeId));
      });
    });

    test('live migration to another host: the guest goes on there where it was (no new boot), its disk with it; nothing is left on either host', async () => {
      const other = s.openOther();
      const m = movable('m');
      await d.spawn(m);
      await booted(m, 1);
      if (s.otherDisk) {
        // What the guest's own layer holds goes along: written while it is off, on the source's disk.
        await d.powerOff(m.uuid, 30_000);
        await exec('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xab 512k 64k', join(qemuInstances, m.uuid, 'disk')]);
        await d.powerOn(m);
        await booted(m, 2);
      }
      const at = movePort();
      await other.prepareIncoming(m, at);
      await other.prepareIncoming(m, at);
      assert.equal((await other.info(m.uuid)).power, 'paused', 'waiting for the guest');
      // An abort before the switch-over leaves the guest running here.
      const { pid } = await d.info(m.uuid);
      await assert.rejects(d.migrateOut(m.uuid, at, AbortSignal.abort()), /cancelled/);
      assert.deepEqual(await d.info(m.uuid), { power: 'running', pid });
      await d.migrateOut(m.uuid, at);
      await d.migrateOut(m.uuid, at);
      await other.finishIncoming(m.uuid);
      assert.equal((await other.info(m.uuid)).power, 'running');
      // What it printed on the first host shows first there, as the move carries it.
      await other.keepConsole(m.uuid, await d.consoleLog(m.uuid));
      assert.equal((await other.consoleLog(m.uuid)).split(s.bootLine).length - 1, s.otherDisk ? 2 : 1, 'the boots on the first host');
      assert.notEqual((await d.info(m.uuid)).power, 'running', 'the source is left stopped');
      await d.destroy(m.uuid, true);
      assert.deepEqual(await d.info(m.uuid), { power: 'nostate' });
      // The boot-sector guest was waiting for the power button: it still is, on the other host.
      await other.powerOff(m.uuid, 30_000);
      assert.equal((await other.consoleLog(m.uuid)).split(s.bootLine).length - 1, s.otherDisk ? 2 : 1, 'no boot on the other host');
      if (s.otherDisk) {
        assert.match(await other.consoleLog(m.uuid), /power button/);
        await exec('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0xab 512k 64k', s.otherDisk(m.uuid)]);
      }
      await other.destroy(m.uuid);
      assert.deepEqual(await other.list(), []);
    });

    test("a cold migration's disk: served by the stopped guest's host, copied by another whole and standalone, and the guest boots there", async () => {
      const other = s.openOther();
      const c = movable('c');
      await d.spawn(c);
      await assert.rejects(d.serveDisk(c.uuid, movePort()), /running/);
      await d.powerOff(c.uuid, 30_000);
      if (s.otherDisk) await exec('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0xcd 256k 64k', join(qemuInstances, c.uuid, 'disk')]);
      const at = movePort();
      await d.serveDisk(c.uuid, at);
      // The disk goes over TLS with the migration's key: another key reads nothing.
      await assert.rejects(other.fetchDisk(randomUUID(), { ...at, key: movePort().key }), /TLS|handshake/i);
      await d.serveDisk(c.uuid, at);
      await other.fetchDisk(c.uuid, at);
      // Fetched once: a guest that has its disk keeps it.
      await other.fetchDisk(c.uuid, at);
      if (s.otherDisk) {
        const info = await qcow2Info(s.otherDisk(c.uuid));
        assert.equal(info['backing-filename'], undefined, 'standalone');
        await exec('qemu-io', ['-f', 'qcow2', '-c', 'read -P 0xcd 256k 64k', s.otherDisk(c.uuid)]);
      }
      await other.spawn(c);
      await until('c booted on the other host', async () => (await other.consoleLog(c.uuid)).includes(s.bootLine));
      await d.stopServingDisk(c.uuid);
      await d.destroy(c.uuid);
      await other.destroy(c.uuid);
      assert.deepEqual(await other.list(), []);
      await assert.rejects(other.fetchDisk(randomUUID(), at));
    });

    test('a paused guest live-migrated stays paused on the other host', async () => {
      const other = s.openOther();
      const p = movable('p');
      await d.spawn(p);
      await booted(p, 1);
      await d.pause(p.uuid);
      const at = movePort();
      await other.prepareIncoming(p, at);
      await d.migrateOut(p.uuid, at);
      await other.finishIncoming(p.uuid);
      assert.equal((await other.info(p.uuid)).power, 'paused');
      await d.destroy(p.uuid, true);
      await other.destroy(p.uuid);
    });

    test('a live migration to a host that does not listen fails, and the guest runs on where it was', async () => {
      const { pid } = await d.info(a.uuid);
      if (s.otherDisk) await assert.rejects(d.migrateOut(a.uuid, { ...movePort(), port: 9 }));
      assert.deepEqual(await d.info(a.uuid), { power: 'running', pid });
    });

    test("a live migration sent with another key than the destination's fails its TLS handshake, and the guest runs on where it was", async () => {
      const other = s.openOther();
      const w = movable('w');
      await d.spawn(w);
      await booted(w, 1);
      const at = movePort();
      await other.prepareIncoming(w, at);
      const { pid } = await d.info(w.uuid);
      await assert.rejects(d.migrateOut(w.uuid, { ...at, key: movePort().key }));
      assert.deepEqual(await d.info(w.uuid), { power: 'running', pid });
      await other.destroy(w.uuid, true);
      await d.destroy(w.uuid);
    });

    test('a new driver on the same host adopts the running guest and can power it off', async () => {
      const { pid } = await d.info(a.uuid);
      const again = s.open();
      assert.deepEqual(await again.info(a.uuid), { power: 'running', pid });
      assert.deepEqual((await again.list()).sort(), [a.uuid, b.uuid].sort());
      await again.powerOff(a.uuid, 30_000);
      assert.deepEqual(await d.info(a.uuid), { power: 'shutdown' });
    });

    test('destroy removes the guest and everything it holds; again, it does nothing', async () => {
      await d.powerOn(a);
      const { pid } = await d.info(a.uuid);
      await d.destroy(a.uuid);
      await d.destroy(b.uuid);
      assert.equal(await s.alive(pid!, a.uuid).catch(() => false), false);
      assert.deepEqual(await d.info(a.uuid), { power: 'nostate' });
      assert.deepEqual(await d.info(b.uuid), { power: 'nostate' });
      assert.deepEqual(await d.list(), []);
      assert.deepEqual(s.leftovers(), []);
      assert.equal(await d.consoleLog(a.uuid), '');
      await d.destroy(a.uuid);
    });

    test('a spawn that fails leaves nothing behind', async () => {
      const broken: GuestSpec = { ...a, uuid: randomUUID(), image: { id: randomUUID(), path: join(s.dir, 'missing'), format: 'raw' } };
      await assert.rejects(d.spawn(broken));
      assert.deepEqual(await d.info(broken.uuid), { power: 'nostate' });
      assert.deepEqual(await d.list(), []);
      assert.deepEqual(s.leftovers(), []);
    });
  });
}

describe('qemu driver on the host', { skip: subjects[1]!.skip }, () => {
  const instancesDir = join(work, 'qemu-host', 'instances');
  const d = () => createQemuDriver({ instancesDir, log });
  const image = join(work, 'qemu-host', 'button.raw');
  const guest = (name: string, imageId: string): GuestSpec => ({
    uuid: randomUUID(),
    name,
    vcpus: 1,
    memoryMiB: 64,
    rootGiB: 0,
    image: { id: imageId, path: image, format: 'raw' },
    nics: [],
  });

  before(() => {
    mkdirSync(instancesDir, { recursive: true });
    buttonDisk(image);
  });

  test("guests of one image share one base, which goes with the last of them; a snapshot holds the image's data", async () => {
    const driver = d();
    const id = randomUUID();
    const [x, y] = [guest('x', id), guest('y', id)];
    await driver.spawn(x);
    await driver.spawn(y);
    assert.deepEqual(readdirSync(join(instancesDir, '_base')), [id]);
    const overlay = await qcow2Info(join(instancesDir, x.uuid, 'disk'));
    assert.equal(overlay['backing-filename'], `../_base/${id}`, 'relative, so the data directory can move');
    const snap = join(work, 'qemu-host', 'x.qcow2');
    await driver.snapshot(x.uuid, snap);
    const raw = join(work, 'qemu-host', 'x.raw');
    await exec('qemu-img', ['convert', '-O', 'raw', snap, raw]);
    assert.deepEqual(readFileSync(raw).subarray(0, 512), readFileSync(image).subarray(0, 512));
    await driver.destroy(x.uuid);
    assert.deepEqual(readdirSync(join(instancesDir, '_base')), [id]);
    await driver.destroy(y.uuid);
    assert.deepEqual(readdirSync(join(instancesDir, '_base')), []);
  });

  test('a pidfile that names some other process is not taken for the guest', async () => {
    const driver = d();
    const g = guest('z', randomUUID());
    await driver.spawn(g);
    await driver.powerOff(g.uuid, 0);
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      writeFileSync(join(instancesDir, g.uuid, 'qemu.pid'), `${other.pid}\n`);
      assert.deepEqual(await driver.info(g.uuid), { power: 'shutdown' });
      await driver.destroy(g.uuid);
      assert.equal(other.exitCode, null);
      assert.equal(other.signalCode, null, 'destroy left the other process alone');
    } finally {
      other.kill('SIGKILL');
    }
  });

  test('an instances directory too deep for a QMP socket path is refused at once', () => {
    assert.throws(() => createQemuDriver({ instancesDir: join(work, 'x'.repeat(80)), log }), /too deep/);
  });
});
