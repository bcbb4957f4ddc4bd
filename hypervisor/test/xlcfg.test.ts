// Domain configurations in xl.cfg syntax: what is accepted and converted, and every
// refusal located at its line and column.

import { describe, expect, it } from 'vitest';
import { DEFAULT_MEMORY_MIB, parseDisk, parseDomainConfig, parseVif } from '../src/xen/xlcfg.js';

const errors = (text: string) => {
  const r = parseDomainConfig(text);
  return r.diagnostics.map((d) => `${d.line}:${d.column}: ${d.severity}: ${d.message}`);
};

describe('xl.cfg', () => {
  it('reads the settings xenolab uses, with lists over several lines, comments and ; separators', () => {
    const r = parseDomainConfig(`# a web server
name = "web"; kernel = 'kernels/web.xasm'
memory = 32
vcpus = 1
cpu_weight = 512
extra = "console=hvc0 \\"quoted\\""
disk = [ 'disk.img,raw,xvda,rw',   # the root disk
         'format=raw, vdev=xvdb, access=ro, target=data.img', ]
vif = [ 'mac=00:16:3e:01:02:03,bridge=xenbr0', '' ]
`);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.diagnostics).toEqual([]);
    expect(r.config).toEqual({
      name: 'web', kernel: 'kernels/web.xasm', memoryMiB: 32, vcpus: 1, weight: 2, extra: 'console=hvc0 "quoted"',
      disks: [{ target: 'disk.img', format: 'raw', vdev: 'xvda', writable: true }, { target: 'data.img', format: 'raw', vdev: 'xvdb', writable: false }],
      vifs: [{ mac: [0x00, 0x16, 0x3e, 1, 2, 3], bridge: 'xenbr0' }, { mac: null, bridge: 'xenbr0' }],
    });
  });

  it('defaults: 16 MiB, one vCPU, weight 1, no devices; a later setting replaces an earlier one', () => {
    const r = parseDomainConfig('name = "a"\nkernel = "k.elf"\nname = "b"\n');
    expect(r.ok && r.config).toEqual({ name: 'b', kernel: 'k.elf', memoryMiB: DEFAULT_MEMORY_MIB, vcpus: 1, weight: 1, extra: '', disks: [], vifs: [] });
  });

  it('syntax errors stop at their place', () => {
    expect(errors('name = "a\nkernel = "k"')).toEqual(['1:10: error: unterminated string']);
    expect(errors('name "a"')).toEqual(["1:6: error: '=' expected after 'name'"]);
    expect(errors('name = \n')).toEqual(['1:8: error: a value is expected after =']);
    expect(errors('disk = [ "a" "b" ]')).toEqual(["1:14: error: ',' or ']' expected in a list"]);
    expect(errors('disk = [ "a",')).toEqual(["1:14: error: unterminated list: ']' expected"]);
    expect(errors('name = "a" kernel = "b"')).toEqual(["1:12: error: unexpected 'k' after the value of 'name'"]);
    expect(errors('= 3')).toEqual(["1:1: error: unexpected '=': a setting is 'name = value'"]);
  });

  it('refuses wrong types, ranges and specifications, each at its value', () => {
    expect(errors('name = "a"\nkernel = 3\nmemory = 0\nvcpus = 33\ndisk = "x"\nvif = [ "mac=01:00:00:00:00:00" ]\ncpu_weight = 0\n')).toEqual([
      '2:10: error: kernel must be a quoted string',
      '3:10: error: memory = 0 is out of range (1-4096)',
      '4:9: error: vcpus = 33 is out of range (1-32)',
      '7:14: error: cpu_weight = 0 is out of range (1-65535)',
      "5:8: error: disk must be a list: disk = [ '...', ... ]",
      "6:9: error: vif 'mac=01:00:00:00:00:00': mac '01:00:00:00:00:00' is a multicast address",
    ]);
    expect(errors('kernel = "k"')).toEqual(['1:1: error: no name: add name = "..."']);
    expect(errors('name = "a b"\nkernel = "k"')).toEqual(["1:8: error: name 'a b' must be 1-64 letters, digits, '.', '_' or '-'"]);
    expect(errors('name = "a"\nkernel = "k"\ndisk = [ "d.img,raw,xvda,rw", "e.img,raw,xvda,r" ]')).toEqual(["3:31: error: disk 'e.img,raw,xvda,r': xvda is given twice"]);
  });

  it('warns about settings it does not use, and still accepts the file', () => {
    const r = parseDomainConfig('name = "a"\nkernel = "k"\non_crash = "destroy"\nflavour = 3\n');
    expect(r.ok).toBe(true);
    expect(r.diagnostics.map((d) => `${d.line}:${d.column}: ${d.severity}: ${d.message}`)).toEqual([
      '3:1: warning: on_crash is not used by xenolab',
      "4:1: warning: unknown setting 'flavour' (ignored)",
    ]);
  });

  it('disk and vif specifications', () => {
    expect(parseDisk('img,qcow2,xvda,rw')).toBe("format 'qcow2' is not supported (raw is)");
    expect(parseDisk('img,raw,eth0,rw')).toBe("'eth0' is not a virtual device name (xvda, hdb, sdc, ...)");
    expect(parseDisk('img,raw,xvda,rx')).toBe("access 'rx' must be r, ro, w or rw");
    expect(parseDisk(',raw,xvda')).toBe('no target file');
    expect(parseDisk('img,raw,xvdc')).toEqual({ target: 'img', format: 'raw', vdev: 'xvdc', writable: true });
    expect(parseVif('mac=00:16:3e:zz:00:00')).toBe("mac '00:16:3e:zz:00:00' is not six hex bytes (00:16:3e:01:02:03)");
    expect(parseVif('bridge')).toBe("'bridge' is not key=value");
    expect(parseVif('colour=red')).toBe("unknown key 'colour'");
    expect(parseVif('bridge=br1, ip=10.0.0.2')).toEqual({ mac: null, bridge: 'br1' });
  });
});
