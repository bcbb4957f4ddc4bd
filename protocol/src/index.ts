// Custom DAP requests and events of xenolab, named once for the adapter and its clients.
// Every side panel's data is the body of one request, computed from the machine state on
// demand; panels ask only for what is visible (one domain, one ring), so a stop with many
// domains stays fast. Plain JSON shapes only: this module imports nothing, so the VS Code
// extension, the browser playground and the adapter can all share it.

/** Custom request commands (DAP `request.command`). */
export const XenRequest = {
  domains: 'xen/domains',
  pageTables: 'xen/pageTables',
  frameMap: 'xen/frameMap',
  eventChannels: 'xen/eventChannels',
  grantTables: 'xen/grantTables',
  rings: 'xen/rings',
  hypercallLog: 'xen/hypercallLog',
  hypercallSites: 'xen/hypercallSites',
  consoleInput: 'xen/consoleInput',
  /** Dom0's control of a domain, as `xl pause`, `xl unpause` and `xl destroy`. */
  pause: 'xen/pause',
  unpause: 'xen/unpause',
  destroy: 'xen/destroy',
  translate: 'xen/translate',
} as const;
export type XenRequestName = (typeof XenRequest)[keyof typeof XenRequest];

/** Custom events (DAP `event.event`). */
export const XenEvent = {
  /** A domain wrote to its console (the console panel's stream, one per domain). */
  console: 'xen/console',
} as const;
export type XenEventName = (typeof XenEvent)[keyof typeof XenEvent];

export interface ConsoleEventBody {
  domain: number;
  text: string;
}

/**
 * What a view returns instead of a body when it cannot answer (no such domain, vCPU or
 * ring): the adapter sends it as a failed response with this message. No body has an
 * `error` field, so the two never mix.
 */
export interface XenViewError {
  error: string;
}

export function isXenViewError(v: unknown): v is XenViewError {
  return typeof v === 'object' && v !== null && typeof (v as { error?: unknown }).error === 'string';
}

// ---- xen/domains ---------------------------------------------------------------------------

export interface DomainsArguments {
  /** Only these domains (the rows a panel shows); all when absent. */
  domains?: number[];
}

/** As `xl list` flags it: shut down or crashed first, then paused, then every up vCPU blocked. */
export type DomainStateName = 'running' | 'paused' | 'blocked' | 'shutdown' | 'crashed';
export type RunstateName = 'running' | 'runnable' | 'blocked' | 'offline';

export interface VcpuInfo {
  id: number;
  up: boolean;
  blocked: boolean;
  /** Blocked in SCHEDOP_poll (a subset of blocked). */
  polling: boolean;
  runstate: RunstateName;
  eip: number;
  /** CR3 as the vCPU's CPU holds it (a machine address). */
  cr3: number;
  instructions: number;
  /** Cycles it has run. */
  cycles: number;
}

export interface DomainCountersInfo {
  /** Hypercalls made, in all. */
  hypercalls: number;
  /** By hypercall name (only those made); numbers past the counted range are `other`. */
  byHypercall: Record<string, number>;
  /** Guest → hypervisor entries (hypercalls and traps the hypervisor took). */
  transitions: number;
  /** Page-table entries changed by hypercalls. */
  ptUpdates: number;
  /** ptUpdates per transition: how well the guest batches. */
  batchingRatio: number;
  /** Exceptions by vector, with the vector's name. */
  traps: { vector: number; name: string; count: number }[];
  eventsSent: number;
  eventsDelivered: number;
  io: {
    ringRequests: number;
    ringResponses: number;
    notificationsSent: number;
    notificationsAvoided: number;
    grantOps: number;
    bytesMoved: number;
  };
}

export interface DomainInfo {
  id: number;
  name: string;
  state: DomainStateName;
  /** SHUTDOWN_* name without the prefix (`poweroff`), when shut down. */
  shutdownReason?: string;
  /** Why it crashed, and where (vCPU and EIP), when crashed. */
  crashReason?: string;
  crashVcpu?: number;
  crashEip?: number;
  paused: boolean;
  pages: number;
  maxPages: number;
  /** Scheduling weight (BVT). */
  weight: number;
  vcpus: VcpuInfo[];
  counters: DomainCountersInfo;
  /** Cycles its vCPUs have run. */
  cycles: number;
}

export interface DomainsBody {
  /** The machine's clock, in cycles (= ns). */
  now: number;
  domains: DomainInfo[];
}

// ---- xen/pageTables --------------------------------------------------------------------------

export interface PageTablesArguments {
  domain: number;
  /** The vCPU whose CR3 is walked (0 when absent). */
  vcpu?: number;
  /** Expand only these page-directory slots' page tables (a panel expanding one row); all present guest slots when absent. */
  slots?: number[];
  /** Expand the page tables of Xen's hole too (false when absent). */
  includeXen?: boolean;
  /** Most L1 entries listed per page table (1024 when absent). */
  maxEntries?: number;
}

/** Frame types as Xen's frame table names them (PGT_*). */
export type FrameTypeName = 'none' | 'l1' | 'l2' | 'seg_desc' | 'writable' | `pgt${number}`;

/** What the frame table says about one machine frame. */
export interface FrameInfo {
  mfn: number;
  /** Its pseudo-physical number in its domain (the M2P table), or -1. */
  pfn: number;
  /** Owning domain id, -1 for none, or the `xenId` of the response for Xen's own. */
  owner: number;
  type: FrameTypeName;
  typeCount: number;
  refCount: number;
  pinned: boolean;
  validated: boolean;
}

/** Names of the entry bits set, from the low 12 bits: `present`, `rw`, `user`, `pwt`, `pcd`, `accessed`, `dirty`, `pse` (L2) or `pat` (L1), `global`, `avail0`..`avail2`. */
export type PageFlagName = 'present' | 'rw' | 'user' | 'pwt' | 'pcd' | 'accessed' | 'dirty' | 'pse' | 'pat' | 'global' | 'avail0' | 'avail1' | 'avail2';

export interface PageTableEntryInfo {
  /** Slot in its table (0..1023). */
  index: number;
  /** First virtual address it maps. */
  va: number;
  /** The raw entry. */
  raw: number;
  flags: PageFlagName[];
  /** The frame it points at (null when beyond machine memory). */
  frame: FrameInfo | null;
  /** A grant mapping (the one entry that may point at another domain's frame): the granting domain. */
  grantFrom?: number;
}

export interface PageDirectoryEntryInfo extends PageTableEntryInfo {
  /** A slot of the hypervisor hole: Xen's entry, not the guest's. */
  xen: boolean;
  /** Its present L1 entries, when expanded. */
  entries?: PageTableEntryInfo[];
  /** More present entries than `maxEntries` were left out. */
  truncated?: boolean;
}

export interface PageTablesBody {
  domain: number;
  vcpu: number;
  /** CR3 as the vCPU's CPU holds it, and the page directory Xen knows it by. */
  cr3: number;
  directory: FrameInfo;
  /** Present page-directory entries. */
  entries: PageDirectoryEntryInfo[];
  /** The owner id of Xen's own frames (DOMID_XEN). */
  xenId: number;
}

// ---- xen/frameMap ---------------------------------------------------------------------------

export interface FrameMapArguments {
  /** The window of frames a panel shows (all when absent). */
  start?: number;
  count?: number;
}

export interface FrameOwnerCount {
  /** Domain id, -1 for free frames, or `xenId`. */
  owner: number;
  name: string;
  frames: number;
  /** Of those, frames Xen allocated for the domain outside its reservation (shared_info, grant-table frames). */
  xenHeap: number;
}

export interface FrameMapBody {
  /** Machine frames in all. */
  total: number;
  /** First frame of the arrays. */
  start: number;
  /** Per frame from `start`: owner (domain id, -1 none, `xenId`). */
  owner: number[];
  /** Per frame from `start`: an index into `typeLegend`. */
  type: number[];
  /** Per frame from `start`: 1 when pinned. */
  pinned: number[];
  typeLegend: FrameTypeName[];
  xenId: number;
  /** Over all frames, not only the window. */
  owners: FrameOwnerCount[];
}

// ---- xen/eventChannels ------------------------------------------------------------------------

export interface EventChannelsArguments {
  domain: number;
}

export type EventChannelKind = 'unbound' | 'interdomain' | 'virq' | 'ipi';

export interface EventChannelInfo {
  port: number;
  kind: EventChannelKind;
  /** unbound: the domain allowed to bind it; interdomain: the other end's domain (0: dom0's backends). */
  remoteDomain?: number;
  remotePort?: number;
  virq?: number;
  virqName?: string;
  /** Who serves dom0's end (`xenstore`, `console`, `blkif vbd 51712`, ...). */
  dom0End?: string;
  /** The vCPU it notifies. */
  vcpu: number;
  pending: boolean;
  masked: boolean;
}

export interface VcpuUpcallInfo {
  vcpu: number;
  upcallPending: boolean;
  /** The virtual interrupt flag is clear. */
  upcallMask: boolean;
  /** evtchn_pending_sel: which 32-port words have pending ports. */
  pendingSel: number;
}

export interface EventChannelsBody {
  domain: number;
  ports: EventChannelInfo[];
  vcpus: VcpuUpcallInfo[];
}

// ---- xen/grantTables ------------------------------------------------------------------------

export interface GrantTablesArguments {
  domain: number;
}

export interface GrantEntryInfo {
  ref: number;
  /** The raw flags and their GTF_* names (the type first, e.g. GTF_permit_access, then GTF_readonly, GTF_reading, ...). */
  flags: number;
  flagNames: string[];
  /** The domain granted access. */
  domid: number;
  frame: number;
  /** Mappings pinning it, for reading and for writing. */
  readers: number;
  writers: number;
  /** Domains holding a mapping of it (0: dom0's backends). */
  mappedBy: number[];
}

export interface GrantMappingInfo {
  handle: number;
  granter: number;
  ref: number;
  frame: number;
  readonly: boolean;
  /** Where it is mapped (GNTMAP_host_map), and the machine address of that PTE. */
  hostAddr?: number;
  pte?: number;
  device: boolean;
}

export interface GrantTablesBody {
  domain: number;
  /** Machine frames of its table. */
  frames: number[];
  /** Entries the table can hold. */
  capacity: number;
  /** Entries whose type is not GTF_invalid, or still pinned. */
  entries: GrantEntryInfo[];
  /** Mappings it holds of other domains' grants. */
  mappings: GrantMappingInfo[];
}

// ---- xen/rings --------------------------------------------------------------------------------

export interface RingsArguments {
  /** Only this domain's rings (all when absent). */
  domain?: number;
  /** Only the ring of this name. */
  name?: string;
}

export interface BlkifSegmentInfo {
  gref: number;
  firstSect: number;
  lastSect: number;
}

export interface BlkifRequestInfo {
  operation: number;
  operationName: string;
  nrSegments: number;
  handle: number;
  /** The guest's 64-bit cookie, in decimal. */
  id: string;
  sector: number;
  segments: BlkifSegmentInfo[];
}

export interface BlkifResponseInfo {
  id: string;
  operation: number;
  operationName: string;
  status: number;
  statusName: string;
}

export interface NetifTxRequestInfo {
  gref: number;
  offset: number;
  flags: number;
  flagNames: string[];
  id: number;
  size: number;
}

export interface NetifTxResponseInfo {
  id: number;
  status: number;
  statusName: string;
}

export interface NetifRxRequestInfo {
  id: number;
  gref: number;
}

export interface NetifRxResponseInfo {
  id: number;
  offset: number;
  flags: number;
  flagNames: string[];
  /** Bytes received when > 0, else a NETIF_RSP_* status. */
  status: number;
  statusName: string;
}

export type RingEntryValue = BlkifRequestInfo | BlkifResponseInfo | NetifTxRequestInfo | NetifTxResponseInfo | NetifRxRequestInfo | NetifRxResponseInfo;

export interface RingEntry<T extends RingEntryValue = RingEntryValue> {
  /** Free-running ring index, and the slot it is in. */
  index: number;
  slot: number;
  /** Requests: not yet taken by the backend (`pending`) or taken and not answered (`taken`). Responses: `answered`. */
  state: 'pending' | 'taken' | 'answered';
  value: T;
}

/** An io/ring.h request/response ring and what its backend keeps of it. */
export interface SharedRingInfo {
  name: string;
  kind: 'blkif' | 'netif_tx' | 'netif_rx';
  domain: number;
  mfn: number;
  /** The event channel (the frontend's port). */
  port: number;
  /** Slots, and bytes per slot. */
  size: number;
  slotSize: number;
  reqProd: number;
  reqEvent: number;
  rspProd: number;
  rspEvent: number;
  /** The backend's private indices: next request to take, next response slot. */
  reqCons: number;
  rspProdPvt: number;
  /** Requests still in the ring, oldest first. */
  requests: RingEntry[];
  /** The latest responses whose slots no request has reused yet, oldest first. */
  responses: RingEntry[];
}

export interface XenstoreMessageInfo {
  type: number;
  typeName: string;
  reqId: number;
  txId: number;
  /** The payload as Latin-1 text (NULs kept). */
  payload: string;
}

/** One direction of a byte ring (console in/out, xenstore req/rsp). */
export interface ByteStreamInfo {
  name: 'in' | 'out' | 'req' | 'rsp';
  cons: number;
  prod: number;
  size: number;
  /** Produced and not yet consumed, as Latin-1 text. */
  unread: string;
  /** xenstore: the whole messages among the unread bytes. */
  messages?: XenstoreMessageInfo[];
}

export interface ByteRingInfo {
  name: string;
  kind: 'console' | 'xenstore';
  domain: number;
  mfn: number;
  port: number;
  streams: ByteStreamInfo[];
}

export type RingInfo = SharedRingInfo | ByteRingInfo;

/** Tells the two shapes apart (their `kind`s are unions, which `===` alone does not narrow on). */
export function isByteRing(r: RingInfo): r is ByteRingInfo {
  return 'streams' in r;
}

/** A split device dom0 serves, connected or not (a frontend that never connected shows here). */
export interface DeviceInfo {
  name: string;
  kind: 'vbd' | 'vif';
  domain: number;
  devid: number;
  connected: boolean;
  frontendPath: string;
  backendPath: string;
}

export interface RingsBody {
  rings: RingInfo[];
  devices: DeviceInfo[];
}

// ---- xen/hypercallLog -------------------------------------------------------------------------

export interface HypercallLogArguments {
  /** The first sequence number wanted (0 when absent: everything kept). */
  since?: number;
  /** Most entries returned (the oldest first). */
  max?: number;
  /** Only this domain's. */
  domain?: number;
}

export interface HypercallLogEntry {
  seq: number;
  /** System time in cycles (= ns) when it was made. */
  time: number;
  domain: number;
  vcpu: number;
  nr: number;
  name: string;
  /** Its arguments (as many as the hypercall takes), in hex. */
  args: string[];
  result: number;
  /** The errno name when the result is one (-EINVAL → EINVAL). */
  errno?: string;
}

export interface HypercallLogBody {
  entries: HypercallLogEntry[];
  /** Ask with `since: nextSeq` for what comes after. */
  nextSeq: number;
  /** Entries from `since` on that the bounded log no longer holds. */
  dropped: number;
}

// ---- xen/hypercallSites -----------------------------------------------------------------------

export interface HypercallSitesArguments {
  /** Only this domain's. */
  domain?: number;
}

/** The hypercalls made from one source line since the launch (counted whole: unlike the log, never dropped). */
export interface HypercallSiteInfo {
  domain: number;
  /** The line of the `int 0x82`, or of the call into the hypercall page that reached it (a built-in macro: the line invoking it). */
  file: string;
  /** 1-based. */
  line: number;
  count: number;
  /** By hypercall name. */
  byHypercall: Record<string, number>;
  /** Of `count`, the calls that returned an errno. */
  errors: number;
}

export interface HypercallSitesBody {
  sites: HypercallSiteInfo[];
  /** Hypercalls made from code no source line describes. */
  unlocated: number;
}

// ---- xen/consoleInput -------------------------------------------------------------------------

export interface ConsoleInputArguments {
  domain: number;
  text: string;
}

export type ConsoleInputBody = Record<string, never>;

// ---- xen/pause, xen/unpause, xen/destroy ------------------------------------------------------

/**
 * Changes the stopped machine (an edit on its timeline, as console input is: stepping back
 * past it undoes it). A destroyed domain's vCPUs leave the threads; destroy fails while
 * another domain maps one of its grants (Xen's EBUSY).
 */
export interface DomainControlArguments {
  domain: number;
}

export type DomainControlBody = Record<string, never>;

// ---- xen/translate ----------------------------------------------------------------------------

/**
 * The machine frames behind a range of a memory reference, as `readMemory` resolves it:
 * `0x...` (the focused vCPU's virtual addresses), `d<N>:0x...` (domain N's virtual
 * addresses), `p<N>:0x...` (domain N's pseudo-physical addresses) or `m:0x...` (machine).
 */
export interface TranslateArguments {
  memoryReference: string;
  offset?: number;
  /** Bytes from the address (1 when absent): one page entry per page they touch. */
  count?: number;
}

export interface TranslatedPage {
  /** The first address of the page, in the reference's space. */
  address: number;
  /** Its machine address, or null where it is not mapped. */
  machine: number | null;
  /** What the frame table says of its frame (null when not mapped). */
  frame: FrameInfo | null;
  /** Writable by the guest kernel (virtual addresses only: both levels' R/W bits). */
  writable?: boolean;
}

export interface TranslateBody {
  pages: TranslatedPage[];
  /** The owner id of Xen's own frames (DOMID_XEN). */
  xenId: number;
}

// ---- Typed access -----------------------------------------------------------------------------

/** Arguments and response body of each request, for a typed client. */
export interface XenRequests {
  [XenRequest.domains]: { args: DomainsArguments; body: DomainsBody };
  [XenRequest.pageTables]: { args: PageTablesArguments; body: PageTablesBody };
  [XenRequest.frameMap]: { args: FrameMapArguments; body: FrameMapBody };
  [XenRequest.eventChannels]: { args: EventChannelsArguments; body: EventChannelsBody };
  [XenRequest.grantTables]: { args: GrantTablesArguments; body: GrantTablesBody };
  [XenRequest.rings]: { args: RingsArguments; body: RingsBody };
  [XenRequest.hypercallLog]: { args: HypercallLogArguments; body: HypercallLogBody };
  [XenRequest.hypercallSites]: { args: HypercallSitesArguments; body: HypercallSitesBody };
  [XenRequest.consoleInput]: { args: ConsoleInputArguments; body: ConsoleInputBody };
  [XenRequest.pause]: { args: DomainControlArguments; body: DomainControlBody };
  [XenRequest.unpause]: { args: DomainControlArguments; body: DomainControlBody };
  [XenRequest.destroy]: { args: DomainControlArguments; body: DomainControlBody };
  [XenRequest.translate]: { args: TranslateArguments; body: TranslateBody };
}

// ---- language server ---------------------------------------------------------------------

/**
 * Files every assembly can include without them being on disk (xen.inc) have URIs of this
 * scheme (`xenolab-builtin:/xen.inc`): the places the language server points at in them
 * (related information, definitions) open in the editor through the request below.
 */
export const BUILTIN_SCHEME = 'xenolab-builtin';

/** The language server's initializationOptions. */
export interface InitializationOptions {
  /** Rule settings (code → 'error' | 'warning' | 'info' | 'hint' | 'off') for when the client's settings have none. */
  rules?: Record<string, 'error' | 'warning' | 'info' | 'hint' | 'off'>;
  /**
   * The client opens built-in files (through builtinFile below): the server then points
   * into them (a definition in xen.inc, a macro's line in related information). Other
   * clients get no such places.
   */
  builtinFiles?: boolean;
}

/** Custom language server requests. */
export const LspRequest = {
  /** The text of a built-in file: params `{ uri }`, result the text or null. */
  builtinFile: 'xenolab/builtinFile',
  /**
   * A guest source that includes a file (the outermost, open or in the workspace): params
   * `{ textDocument: { uri } }`, result its URI or null. The extension opens an include file that one
   * includes (`.inc`, `.mac`, which no language claims) as guest assembly.
   */
  includedBy: 'xenolab/includedBy',
} as const;
