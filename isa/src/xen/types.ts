// Shapes of the Xen PV ABI tables. The tables hold the i386 (x86_32 PV guest) view of
// Xen's public interface; every value was checked against Xen's public headers unless
// its doc says UNVERIFIED or names another source.

/** One named numeric constant (a `#define` or enum value in Xen's headers). */
export interface XenConstant {
  /** Xen's own spelling, e.g. `MMUEXT_PIN_L2_TABLE`. Unique across all groups. */
  readonly name: string;
  readonly value: number;
  readonly doc: string;
}

/** A family of related constants, e.g. all `MMUEXT_*` commands. */
export interface XenConstantGroup {
  /** Short identifier of the group, e.g. `MMUEXT`. */
  readonly id: string;
  readonly doc: string;
  /** Where the values come from (a path under xen/include/public, or another source). */
  readonly source: string;
  /** True when no two constants of the group may share a value (command numbers, enums). */
  readonly distinct: boolean;
  readonly constants: readonly XenConstant[];
}

/** A named string constant, e.g. the `start_info.magic` of a non-PAE x86_32 guest. */
export interface XenStringConstant {
  readonly name: string;
  readonly value: string;
  readonly doc: string;
}

/** One hypercall argument, in register order. */
export interface HypercallArg {
  readonly name: string;
  /** C type as a 32-bit PV guest passes it (64-bit values are split into _lo/_hi words). */
  readonly cType: string;
}

export interface Hypercall {
  /** The value of `__HYPERVISOR_<name>` (loaded into EAX). */
  readonly number: number;
  /** Name without the `__HYPERVISOR_` prefix, e.g. `mmu_update`. */
  readonly name: string;
  /** Arguments in EBX, ECX, EDX, ESI, EDI order (at most five). */
  readonly args: readonly HypercallArg[];
  readonly doc: string;
  /** Used by a minimal PV guest (and so worth simulating first). */
  readonly star: boolean;
  /** Why a 32-bit PV guest gets -ENOSYS from it (no handler for one), when it does. */
  readonly enosys?: string;
}

/** A Xen errno: hypercalls return its negation in EAX. */
export interface XenErrno {
  /** Name without Xen's `XEN_` prefix, e.g. `EINVAL`. */
  readonly name: string;
  readonly value: number;
  readonly doc: string;
  /** Name of the errno this one duplicates (EWOULDBLOCK = EAGAIN). */
  readonly aliasOf?: string;
  /** Only used inside Xen; never returned to a guest. */
  readonly internal?: boolean;
}

/** One field of an i386 struct layout. */
export interface StructField {
  /**
   * C member designator, e.g. `magic`, `console.domU.mfn`, `arg1.linear_addr`.
   * Dotted names are members of nested (usually anonymous-typed) structs and unions.
   */
  readonly name: string;
  /** Byte offset from the start of the struct (offsetof). */
  readonly offset: number;
  /** Byte size (sizeof the member; 0 for a trailing flexible array). */
  readonly size: number;
  /** C type of the member, e.g. `uint16_t`, `char[32]`, `struct vcpu_info[32]`. */
  readonly cType: string;
  readonly doc: string;
  /** Number of elements when the member is an array. */
  readonly count?: number;
  /** Name of the union the member belongs to; members of one union may overlap. */
  readonly union?: string;
  /** Name of the StructLayout describing the member's type (or its element type). */
  readonly struct?: string;
}

/** The i386 layout of one Xen struct. */
export interface StructLayout {
  /** C struct tag, e.g. `start_info` (for `struct start_info`). */
  readonly name: string;
  readonly size: number;
  readonly align: number;
  readonly doc: string;
  /** Header under xen/include/public that defines it. */
  readonly header: string;
  /** Sorted by offset; members of a union share an offset range. */
  readonly fields: readonly StructField[];
}
