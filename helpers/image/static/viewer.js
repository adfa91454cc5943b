// DICOM Workbook viewer: the browser half of helpers.image.viewer.Viewer (an anywidget ES module,
// loaded as it is: no build step, no CDN). What Python sends is documented once, in
// helpers.image.viewer.Meta (the `_meta` trait); this file only reads it.
//
// Python sends modality values as binary buffers (int16/int32 stored values, plus slope
// and intercept when the values are not whole; float64 only as a last resort). The
// browser applies the VOI LUT with the arithmetic of helpers.image.pixels.window, which is
// DCMTK's: double precision, truncation toward zero, and for MONOCHROME1 the curve computed
// from 255 down to 0 (PS3.3 C.7.6.3.1.2). A window has a VOI LUT Function (the `voi_function`
// trait: LINEAR C.11.2.1.2.1, LINEAR_EXACT or SIGMOID C.11.2.1.3); a VOI LUT Sequence table
// of the header (C.11.2.1.1; the `voi_lut` trait, an index into meta.luts) replaces it. Each canvas
// holds exactly one canvas pixel per plane pixel; CSS scales it to the physical aspect.
//
// Volume data is held in canonical order (z, y, x increasing towards S, P, L), in slabs
// of whole axial slices. A volume within the memory budget is fetched whole (the slab
// under the cursor first); a larger one keeps the slabs near the shown slice, and
// coronal/sagittal planes are cut by Python and sent one by one. The data of a viewer
// is freed when its last view closes.
//
// A good citizen of the notebook: the viewer is active after a click in it and inactive
// after Esc or a click elsewhere. While active, every key is its own (none reaches
// JupyterLab's shortcuts) and the wheel changes slices; while inactive it takes no key and
// no wheel event, so the page scrolls over it.
//
// Labels (meta.labels, helpers.image.viewer_labels): one canonical volume with one bit per
// segment, asked for once ({type: "labels"}) and kept with the voxels (freed with them).
// Each visible segment is blended into the windowed grey picture, in segment order, with
// integers only: out = floor((under * (255 - A) + colour * A + 127) / 255), A =
// round(255 * opacity); SEG segments filled, RTSTRUCT ROIs as contours (the mask's pixels
// with a 4-neighbour outside it or on the plane's edge).

const TYPES = { int16: Int16Array, int32: Int32Array, float64: Float64Array,
  uint8: Uint8Array, uint16: Uint16Array, uint32: Uint32Array };
// each plane's colour: its name in its view's corner, and its reference line in the other views
const PLANE_COLOURS = { axial: "#4ea5ff", coronal: "#5fd35f", sagittal: "#ffb03b", frame: "#4ea5ff" };
// uid -> Store, shared by the views of one viewer. anywidget may load this module once
// per viewer, so the map lives on the page, where every copy of the module finds it.
const stores = (globalThis.__dicomViewerStores = globalThis.__dicomViewerStores || new Map());
// Input-to-pixels timings, for the latency benchmark only: recorded when the page sets
// globalThis.__dicomViewerDebug = true before the viewer loads.
const debug = () => globalThis.__dicomViewerDebug === true;

/** The LINEAR VOI function exactly as helpers.image.pixels._ramp computes it. */
export function ramp(center, width, mono1) {
  const c = center, w = width;
  const low = mono1 ? 255 : 0, high = mono1 ? 0 : 255;
  const left = c - 0.5 - (w - 1) / 2, right = c - 0.5 + (w - 1) / 2;
  const w1 = w - 1;
  if (w1 === 0) return (x) => (x <= left ? low : high);
  const outrange = high - low;
  const offset = high - ((c - 0.5) / w1 + 0.5) * outrange;
  const gradient = outrange / w1;
  return (x) => {
    if (x <= left) return low;
    if (x > right) return high;
    let y = x * gradient;
    y += offset;
    if (y < 0) y = 0; else if (y > 255) y = 255;
    return Math.trunc(y);
  };
}

/** LINEAR_EXACT (PS3.3 C.11.2.1.3.2) as helpers.image.pixels._linear_exact computes it. */
export function linearExact(center, width, mono1) {
  const c = center, w = width;
  const low = mono1 ? 255 : 0, high = mono1 ? 0 : 255;
  const left = c - w / 2, right = c + w / 2;
  return (x) => {
    if (x <= left) return low;
    if (x > right) return high;
    let y = (x - c) / w;
    y += 0.5;
    y *= high - low;
    y += low;
    if (y < 0) y = 0; else if (y > 255) y = 255;
    return Math.trunc(y);
  };
}

/** SIGMOID (PS3.3 C.11.2.1.3.1) as helpers.image.pixels._sigmoid (DCMTK's dimoopxt.h) computes it. */
export function sigmoid(center, width, mono1) {
  const c = center, w = width;
  const low = mono1 ? 255 : 0, high = mono1 ? 0 : 255;
  return (x) => {
    let y = (high - low) / (1 + Math.exp(-4 * (x - c) / w)) + low;
    if (y < 0) y = 0; else if (y > 255) y = 255;
    return Math.trunc(y);
  };
}

/** A window with a VOI LUT Function (LINEAR, LINEAR_EXACT or SIGMOID): modality value -> grey. */
export function voiCurve(center, width, mono1, fn) {
  if (fn === "LINEAR_EXACT") return linearExact(center, width, mono1);
  if (fn === "SIGMOID") return sigmoid(center, width, mono1);
  return ramp(center, width, mono1);
}

/** A VOI LUT table (meta.luts item): grey = table[clamp(trunc(x) - first_mapped, 0, n - 1)],
 * table = helpers.image.pixels.VoiLut.grey_table(photometric). */
export function voiTable(lut, mono1) {
  const key = mono1 ? "MONOCHROME1" : "MONOCHROME2";
  lut.tables = lut.tables || {};
  if (!lut.tables[key]) lut.tables[key] = Uint8Array.from(atob(lut.grey[key]), (ch) => ch.charCodeAt(0));
  const table = lut.tables[key], first = lut.first_mapped, last = table.length - 1;
  return (x) => {
    const i = Math.trunc(x) - first;
    return table[i < 0 ? 0 : i > last ? last : i];
  };
}

// ------------------------------------------------------------------------------- data
class Store {
  constructor(meta) {
    const m = (this.meta = meta);
    this.uid = m.uid;
    [this.nz, this.ny, this.nx] = m.shape;
    this.Type = TYPES[m.dtype];
    this.sliceLen = this.ny * this.nx;
    this.slabSlices = m.slab_slices;
    this.nslabs = Math.ceil(this.nz / this.slabSlices);
    this.whole = m.whole; // the whole volume fits the budget
    this.slabs = new Map(); // slab id -> typed array (whole: all kept; else LRU)
    this.planes = new Map(); // "coronal:12" -> typed array (over budget only)
    this.pending = new Set();
    this.apps = new Set(); // the open views; the first one talks to Python
    this.bytesReceived = 0;
    this.labels = null; // the packed label bits (meta.labels), whole, once received
    this.live = false; // Python has answered: the kernel holds this viewer
  }
  get owner() { return this.apps.values().next().value; }
  value(s) { // stored value -> modality value (PS3.3 C.11.1.1.2), as numpy computes it
    const m = this.meta;
    if (m.slope === 1 && m.intercept === 0) return s;
    let v = s * m.slope;
    v += m.intercept;
    return v;
  }
  slice(k) {
    const id = Math.floor(k / this.slabSlices);
    const slab = this.slabs.get(id);
    if (!slab) { this.need([id]); return null; }
    if (!this.whole) { this.slabs.delete(id); this.slabs.set(id, slab); } // LRU touch
    const off = (k - id * this.slabSlices) * this.sliceLen;
    return slab.subarray(off, off + this.sliceLen);
  }
  complete() { return this.slabs.size === this.nslabs; }
  needLabels() {
    if (!this.meta.labels || this.labels || this.pending.has("labels")) return;
    this.pending.add("labels");
    this.post({ type: "labels" });
  }
  post(content) { if (this.owner) this.owner.model.send(content); } // no comm: nothing sent
  need(ids) {
    const fresh = ids.filter((id) => !this.slabs.has(id) && !this.pending.has(`s${id}`));
    if (!fresh.length) return;
    fresh.forEach((id) => this.pending.add(`s${id}`));
    this.post({ type: "need", slabs: fresh });
  }
  prefetch(k) { // nearest slabs first: all of them when the volume fits, else +-2
    const here = Math.floor(k / this.slabSlices);
    const ids = [];
    const reach = this.whole ? this.nslabs : 2;
    for (let d = 0; d <= reach; d++) {
      for (const id of d ? [here - d, here + d] : [here]) {
        if (id >= 0 && id < this.nslabs) ids.push(id);
      }
    }
    this.need(ids);
  }
  plane(name, index) {
    const key = `${name}:${index}`;
    const got = this.planes.get(key);
    if (got) return got;
    if (!this.pending.has(key)) {
      this.pending.add(key);
      this.post({ type: "plane", plane: name, index });
    }
    return null;
  }
  receive(msg, buffers) {
    if (!buffers || !buffers.length) return;
    this.live = true;
    const dv = buffers[0];
    const bytes = dv.buffer.slice(dv.byteOffset, dv.byteOffset + dv.byteLength);
    this.bytesReceived += dv.byteLength;
    if (msg.type === "labels") {
      this.pending.delete("labels");
      this.labels = new TYPES[this.meta.labels.dtype](bytes);
      this.apps.forEach((app) => app.schedule("data"));
      return;
    }
    const data = new this.Type(bytes);
    if (msg.type === "slab") {
      this.pending.delete(`s${msg.id}`);
      this.slabs.set(msg.id, data);
      if (!this.whole) {
        const budget = Math.max(5, Math.floor(this.meta.budget_bytes / (this.slabSlices *
          this.sliceLen * this.Type.BYTES_PER_ELEMENT)));
        while (this.slabs.size > budget) this.slabs.delete(this.slabs.keys().next().value);
      }
    } else if (msg.type === "plane") {
      const key = `${msg.plane}:${msg.index}`;
      this.pending.delete(key);
      this.planes.set(key, data);
      while (this.planes.size > 32) this.planes.delete(this.planes.keys().next().value);
    }
    this.apps.forEach((app) => app.schedule("data"));
  }
}

function openStore(app) {
  const uid = app.meta.uid;
  if (!stores.has(uid)) stores.set(uid, new Store(app.meta));
  const store = stores.get(uid);
  store.apps.add(app);
  return store;
}

function closeStore(app) { // the last view of a viewer closes: free its voxels
  const store = app.store;
  store.apps.delete(app);
  if (store.apps.size === 0) {
    store.slabs.clear(); store.planes.clear(); store.labels = null;
    if (stores.get(store.uid) === store) stores.delete(store.uid);
  }
}

/** How many viewers' data the page holds, and how many bytes (for tests and tools). */
export function held() {
  let bytes = 0;
  for (const s of stores.values()) {
    for (const a of s.slabs.values()) bytes += a.byteLength;
    for (const a of s.planes.values()) bytes += a.byteLength;
    if (s.labels) bytes += s.labels.byteLength;
  }
  return { viewers: stores.size, bytes };
}
globalThis.__dicomViewerHeld = held;

// --------------------------------------------------------------------- saved notebooks
/** True when the widget model has no comm: it was restored from the widget state saved
 * in the notebook, and no kernel holds it. (Backbone passes the model itself to a
 * change listener, so its public `comm_live` can be read behind anywidget's proxy.) */
function savedWithoutKernel(model) {
  let live = true;
  const probe = (m) => { live = Boolean(m && m.comm_live); };
  model.on("change:cursor", probe);
  const old = model.get("cursor");
  model.set("cursor", { probe: true });
  model.set("cursor", old);
  model.off("change:cursor", probe);
  return !live;
}

const cleaned = new WeakSet();
/** JupyterLab's widget manager (jupyterlab_widgets, with saveState) marks a notebook
 * modified as it registers the widgets saved in it, so merely opening a saved lesson
 * would ask "Save changes?" on close. Undo that once per opened notebook, and only while
 * the learner has not edited anything (nothing to undo). */
function keepOpenedNotebookClean(manager) {
  const notebook = manager && manager.context && manager.context.model;
  if (!notebook || cleaned.has(notebook)) return;
  cleaned.add(notebook);
  const edited = notebook.sharedModel && notebook.sharedModel.canUndo && notebook.sharedModel.canUndo();
  if (notebook.dirty && !edited) notebook.dirty = false;
}

// ------------------------------------------------------------------------------ views
function el(tag, cls, parent, text) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  if (parent) parent.appendChild(e);
  return e;
}

class View {
  constructor(app, name) {
    this.app = app;
    this.name = name;
    this.axes = app.meta.planes[name]; // where the plane lies in the volume (PlaneAxes)
    this.zoom = 1; this.panX = 0; this.panY = 0;
    this.box = el("div", "dv-view");
    this.box.dataset.plane = name;
    this.canvas = el("canvas", "dv-canvas", this.box);
    this.canvas.dataset.plane = name;
    this.ctx = this.canvas.getContext("2d", { willReadFrequently: true });
    this.svg = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    this.svg.setAttribute("class", "dv-cross");
    this.h = document.createElementNS("http://www.w3.org/2000/svg", "line");
    this.v = document.createElementNS("http://www.w3.org/2000/svg", "line");
    this.svg.append(this.h, this.v);
    this.box.appendChild(this.svg);
    ["top", "bottom", "left", "right"].forEach((side, n) => {
      el("div", `dv-letter dv-${side}`, this.box, this.axes.edges[n]);
    });
    // four-corner overlays: patient and series; slice and its position; window; zoom
    this.corners = ["tl", "tr", "bl", "br"].map((c) => el("div", `dv-corner dv-${c}`, this.box));
    if (name !== "frame") this.corners[1].style.color = PLANE_COLOURS[name]; // as its reference lines
    this.scale = el("div", "dv-scale", this.box);
    this.scaleLabel = el("span", null, this.scale);
    this.mark = document.createElementNS("http://www.w3.org/2000/svg", "g");
    this.svgAll = document.createElementNS("http://www.w3.org/2000/svg", "svg");
    this.svgAll.setAttribute("class", "dv-marks");
    this.svgAll.appendChild(this.mark);
    this.box.appendChild(this.svgAll);
    this.loading = el("div", "dv-loading", this.box, "loading…");
    this.values = null; this.valuesKey = "";
  }
  size(p) { return this.app.meta.shape[2 - p]; } // points along canonical index p
  geometry() { // rows, cols and (height, width) mm of one pixel of this plane
    const sp = this.app.meta.spacing, a = this.axes;
    return [this.size(a.row), this.size(a.col), sp[2 - a.row], sp[2 - a.col]];
  }
  index() { return this.app.point[this.axes.axis]; }
  count() { return this.size(this.axes.axis); }
  voxel(col, row) { // canonical [i, j, k] of a plane pixel
    const a = this.axes, p = [...this.app.point];
    p[a.col] = col;
    p[a.row] = a.row_flip ? this.size(a.row) - 1 - row : row;
    return p;
  }
  pixel(point) { // [col, row] of a canonical point in this plane
    const a = this.axes;
    return [point[a.col], a.row_flip ? this.size(a.row) - 1 - point[a.row] : point[a.row]];
  }
  key() { // what extract() gives: the plane, its index, and the thick slab if any
    const slab = this.app.slab;
    return `${this.name}:${this.index()}${slab ? `:${slab.mode}:${slab.half}` : ""}`;
  }
  extract() { // the plane's stored values in display order (Pixels.cut), or null;
    // with a thick slab, the maximum (MIP) or minimum (MinIP) over the planes
    // index - half ... index + half (clamped to the volume), value by value
    const key = this.key();
    if (this.values && this.valuesKey === key) return this.values;
    const slab = this.app.slab, k = this.index();
    let out = this.cut(k);
    if (out && slab) {
      const acc = new out.constructor(out); // a copy: cut() may be a view of the store
      // stored order is value order when the slope is positive (PS3.3 C.11.1.1.2)
      const max = (slab.mode === "mip") === (this.app.meta.slope >= 0);
      for (let j = Math.max(0, k - slab.half); j <= Math.min(this.count() - 1, k + slab.half); j++) {
        if (j === k) continue;
        const other = this.cut(j);
        if (!other) return null;
        const n = acc.length;
        if (max) { for (let p = 0; p < n; p++) if (other[p] > acc[p]) acc[p] = other[p]; }
        else { for (let p = 0; p < n; p++) if (other[p] < acc[p]) acc[p] = other[p]; }
      }
      out = acc;
    }
    if (out) { this.values = out; this.valuesKey = key; }
    return out;
  }
  labelCut(k) { // the packed label bits of plane k in display order, or null
    const s = this.app.store, a = this.axes;
    if (!s.labels) return null;
    const key = `${this.name}:${k}`;
    if (this.labelKey === key) return this.labelBits;
    const [rows, cols] = this.geometry();
    const strides = [1, s.nx, s.nx * s.ny]; // canonical point index -> array offset
    const out = new s.labels.constructor(rows * cols);
    const base = k * strides[a.axis], cs = strides[a.col], rs = strides[a.row];
    for (let r = 0; r < rows; r++) {
      const off = base + (a.row_flip ? rows - 1 - r : r) * rs;
      for (let c = 0; c < cols; c++) out[r * cols + c] = s.labels[off + c * cs];
    }
    let n = 0; // the labelled pixels, so that a redraw visits only them
    for (let p = 0; p < out.length; p++) if (out[p]) n++;
    out.where = new Int32Array(n);
    for (let p = 0, q = 0; p < out.length; p++) if (out[p]) out.where[q++] = p;
    this.labelKey = key; this.labelBits = out;
    return out;
  }
  cut(k) { // the stored values of plane k in display order, or null while not here
    const s = this.app.store, a = this.axes;
    let out = null;
    if (a.axis === 2) {
      out = s.slice(k);
    } else if (!s.whole) {
      out = s.plane(this.name, k);
    } else if (s.complete()) { // rows run along z (a.row === 2); columns along x or y
      const [rows, cols] = this.geometry();
      out = new s.Type(rows * cols);
      const colStride = a.col === 0 ? 1 : s.nx, fixed = a.axis === 0 ? k : k * s.nx;
      for (let r = 0; r < rows; r++) {
        const src = s.slice(a.row_flip ? rows - 1 - r : r);
        for (let c = 0; c < cols; c++) out[r * cols + c] = src[fixed + c * colStride];
      }
    }
    return out;
  }
  layout() { // screen placement of the image inside the box
    const [rows, cols, ph, pw] = this.geometry();
    const bw = this.app.boxSize, bh = this.app.boxSize; // set by us: no layout read
    const scale = Math.min(bw / (cols * pw), bh / (rows * ph)) * this.zoom;
    const w = cols * pw * scale, h = rows * ph * scale;
    return { x: (bw - w) / 2 + this.panX, y: (bh - h) / 2 + this.panY, w, h, rows, cols };
  }
  toImage(event) { // continuous (x, y) in plane pixels under the pointer (0.5 = a pixel's centre)
    const r = this.box.getBoundingClientRect();
    const L = this.layout();
    return [((event.clientX - r.left - L.x) / L.w) * L.cols, ((event.clientY - r.top - L.y) / L.h) * L.rows];
  }
  toScreen(x, y, L) { return [L.x + (x / L.cols) * L.w, L.y + (y / L.rows) * L.h]; }
  toPixel(event) { // [col, row] under the pointer, or null outside the image
    const r = this.box.getBoundingClientRect();
    const L = this.layout();
    const col = Math.floor(((event.clientX - r.left - L.x) / L.w) * L.cols);
    const row = Math.floor(((event.clientY - r.top - L.y) / L.h) * L.rows);
    if (col < 0 || row < 0 || col >= L.cols || row >= L.rows) return null;
    return [col, row];
  }
  draw(lut32, lutBase, ramp1) {
    const values = this.extract();
    const L = this.layout();
    this.box.classList.toggle("dv-active", this.name === this.app.activePlane());
    this.loading.style.display = values ? "none" : "";
    if (!values) return false;
    const c = this.canvas;
    if (c.width !== L.cols || c.height !== L.rows) { c.width = L.cols; c.height = L.rows; }
    if (!this.image || this.image.width !== L.cols || this.image.height !== L.rows) {
      this.image = this.ctx.createImageData(L.cols, L.rows);
      this.px = new Uint32Array(this.image.data.buffer);
    }
    const px = this.px, n = values.length;
    if (lut32) {
      for (let p = 0; p < n; p++) px[p] = lut32[values[p] - lutBase];
    } else {
      const store = this.app.store;
      for (let p = 0; p < n; p++) {
        const g = ramp1(store.value(values[p]));
        px[p] = 0xff000000 | (g << 16) | (g << 8) | g;
      }
    }
    this.app.blendLabels(this.labelCut(this.index()), px, L.cols, L.rows);
    this.ctx.putImageData(this.image, 0, 0);
    Object.assign(c.style, { left: `${L.x}px`, top: `${L.y}px`, width: `${L.w}px`,
      height: `${L.h}px` });
    c.style.imageRendering = this.app.model.get("interpolation") === "linear" ? "auto" : "pixelated";
    this.drawCross(L);
    this.drawOverlays(L);
    return true;
  }
  drawOverlays(L) { // the four corners, the scale bar, the ruler and the ROI
    const app = this.app, m = app.meta, [, , ph, pw] = this.geometry();
    const fmt = (x) => app.fmt(x);
    let where = this.count() > 1 || this.name !== "frame" ? `${this.name} ${this.index() + 1}/${this.count()}` : "";
    if (m.affine && this.name !== "frame") { // the plane's position along its normal, LPS mm
      const A = m.affine, p = app.point, axis = this.axes.axis;
      const lps = A[axis].slice(0, 3).reduce((s, a, n) => s + a * p[n], A[axis][3]);
      where += `\n${"xyz"[axis]} = ${lps.toFixed(1)} mm`;
    }
    if (m.thickness) where += `${where ? "\n" : ""}thickness ${fmt(m.thickness)} mm`;
    const slab = app.slab;
    if (slab) where += `\n${slab.mode === "mip" ? "MIP" : "MinIP"} of ${2 * slab.half + 1} planes`;
    const c = app.model.get("center"), w = app.model.get("width");
    const zoom = L.w / L.cols; // screen pixels per image pixel
    const text = [`${m.patient}\n${m.series}`.trim(), where,
      `${app.voiText(" ")}${app.model.get("invert") ? " (inverted)" : ""}`,
      `zoom ${Math.round(zoom * 100)}%`];
    this.corners.forEach((e, n) => { if (e.textContent !== text[n]) e.textContent = text[n]; });
    // scale bar: the longest round length (1, 2, 5 x 10^n mm) within a quarter of the view
    const perMm = L.w / (L.cols * pw);
    if (m.spacing_kind && perMm > 0) {
      const limit = (0.25 * this.app.boxSize) / perMm;
      let mm = 10 ** Math.floor(Math.log10(limit));
      for (const f of [5, 2]) if (mm * f <= limit) { mm *= f; break; }
      this.scale.style.display = "";
      this.scale.style.width = `${mm * perMm}px`;
      this.scaleLabel.textContent = `${fmt(mm)} mm`;
      this.scale.dataset.mm = String(mm);
    } else this.scale.style.display = "none";
    // the ruler and the ROI of this plane and slice
    const key = `${this.name}:${this.index()}`;
    const parts = [];
    const r = app.ruler;
    if (r && r.key === key) {
      const [x1, y1] = this.toScreen(r.a[0], r.a[1], L), [x2, y2] = this.toScreen(r.b[0], r.b[1], L);
      parts.push(`<line class="dv-ruler" x1="${x1}" y1="${y1}" x2="${x2}" y2="${y2}"/>`,
        `<text x="${x2 + 6}" y="${y2 - 6}">${fmt(+r.length.toFixed(2))} ${r.unit}</text>`);
    }
    const q = app.roi;
    if (q && q.key === key) {
      const [x1, y1] = this.toScreen(q.c0, q.r0, L), [x2, y2] = this.toScreen(q.c1 + 1, q.r1 + 1, L);
      parts.push(`<rect class="dv-roi" x="${x1}" y="${y1}" width="${x2 - x1}" height="${y2 - y1}"/>`);
    }
    const html = parts.join("");
    if (this.marksHtml !== html) { this.mark.innerHTML = html; this.marksHtml = html; }
  }
  drawCross(L) { // reference lines: where the two other planes cut this one
    const show = this.app.views.length > 1;
    this.svg.style.display = show ? "" : "none";
    if (!show) return;
    if (!this.lineColours) { // the plane held fixed along this view's rows (h) and columns (v)
      const by = (p) => this.app.views.find((v) => v.axes.axis === p);
      for (const [line, p] of [[this.h, this.axes.row], [this.v, this.axes.col]]) {
        line.setAttribute("stroke", PLANE_COLOURS[by(p).name]);
        line.dataset.plane = by(p).name;
      }
      this.lineColours = true;
    }
    const [col, row] = this.pixel(this.app.point);
    const x = L.x + ((col + 0.5) / L.cols) * L.w, y = L.y + ((row + 0.5) / L.rows) * L.h;
    const set = (line, a) => Object.entries(a).forEach(([k, v]) => line.setAttribute(k, v));
    set(this.h, { x1: L.x, x2: L.x + L.w, y1: y, y2: y });
    set(this.v, { x1: x, x2: x, y1: L.y, y2: L.y + L.h });
  }
}

// -------------------------------------------------------------------------------- app
class App {
  constructor(model, root) {
    this.model = model;
    this.root = root;
    this.meta = model.get("_meta");
    this.planeNames = Object.keys(this.meta.planes);
    this.store = openStore(this);
    this.point = [...model.get("crosshair")];
    this.pendingInputs = [];
    this.frame = 0;
    this.boxSize = Math.min(this.meta.size, 320); // until fit() measures the cell
    this.active = false; // keys and wheel are the viewer's (after a click in it)
    this.tool = "wl";
    this.slab = null; this.slabHalf = 2; this.cineTimer = 0;
    this.connected = this.store.live; // Python answers (else: reopened without its kernel)
    this.saved = !this.connected && savedWithoutKernel(model); // from the notebook's saved state
    if (this.saved) keepOpenedNotebookClean(model.widget_manager);
    this.build();
    const redraw = () => { this.syncControls(); this.schedule(null); };
    for (const name of ["center", "width", "voi_function", "voi_lut", "invert", "interpolation", "arrangement", "plane", "segment_styles"]) {
      model.on(`change:${name}`, redraw);
    }
    model.on("change:crosshair", () => { this.point = [...model.get("crosshair")]; redraw(); });
    model.on("msg:custom", (msg, buffers) => { if (this.store.owner === this) this.store.receive(msg, buffers); });
    // the kernel restarted or shut down: this widget's comm is gone for good
    model.on("comm_live_update", () => { this.lost = true; this.setConnected(false); });
    this.fitKey = "";
    this.resize = new ResizeObserver(() => this.fit());
    this.resize.observe(this.root);
    this.onWindow = () => this.fit();
    window.addEventListener("resize", this.onWindow);
    document.addEventListener("fullscreenchange", this.onWindow);
    this.onOutside = (e) => { if (this.active && !this.root.contains(e.target)) this.setActive(false); };
    document.addEventListener("pointerdown", this.onOutside, true);
    this.setConnected(this.connected);
    this.syncControls();
    this.store.prefetch(this.point[2]);
    this.store.needLabels();
    this.schedule(null);
    if (!this.connected) this.waitTimer = setTimeout(() => this.showWaiting(), 1500);
  }
  destroy() {
    closeStore(this);
    this.resize.disconnect();
    window.removeEventListener("resize", this.onWindow);
    document.removeEventListener("fullscreenchange", this.onWindow);
    document.removeEventListener("pointerdown", this.onOutside, true);
    clearTimeout(this.waitTimer);
    clearInterval(this.cineTimer);
    if (this.frame) cancelAnimationFrame(this.frame);
    this.views.forEach((v) => { v.values = null; });
  }

  // -- active / inactive, connected / not ------------------------------------------------
  setActive(on) {
    if (on === this.active) return;
    this.active = on;
    this.root.classList.toggle("dv-engaged", on);
    this.activeLabel.textContent = on ? "active: keys and wheel go to the viewer · Esc to leave"
      : "click the image to use keys and wheel";
    if (!on && this.root.contains(document.activeElement)) document.activeElement.blur();
  }
  setConnected(on) {
    this.connected = on;
    this.root.classList.toggle("dv-offline", !on);
    this.root.dataset.connected = String(on);
    for (const c of this.root.querySelectorAll("input, select, button")) c.disabled = !on;
    if (on) { this.notice.style.display = "none"; clearTimeout(this.waitTimer); return; }
    this.notice.style.display = "";
    this.notice.textContent = this.lost || this.saved
      ? "Not connected to Python (a saved picture, or the kernel restarted): run this cell (Shift+Enter) to bring the viewer back."
      : "Waiting for Python to send the pixels…";
  }
  showWaiting() {
    if (this.connected || this.saved || this.lost) return;
    this.notice.textContent = "No answer from Python: if this notebook was reopened, run this cell " +
      "(Shift+Enter) to bring the viewer back (a kernel busy with other cells answers when it is done).";
  }

  // -- state -------------------------------------------------------------------------
  activePlane() { return this.model.get("plane"); }
  activeView() { return this.views.find((v) => v.name === this.activePlane()); }
  set(changes) { // change the model and tell Python at once: ipywidgets itself holds
    // back further messages while the kernel is busy, and drops the echo of an older
    // value (a throttle here would let such an echo undo a newer local change)
    for (const [k, v] of Object.entries(changes)) this.model.set(k, v);
    this.model.save_changes(); // without a comm this sends nothing
  }
  setWindow(c, w) { // a window (the VOI LUT table, if one was shown, gives way to it)
    const q = this.meta.step;
    // LINEAR needs width >= 1 (PS3.3 C.11.2.1.2.1); LINEAR_EXACT and SIGMOID > 0 (C.11.2.1.3)
    const least = this.model.get("voi_function") === "LINEAR" ? 1 : q;
    c = Math.round(c / q) * q; w = Math.max(least, Math.round(w / q) * q);
    if (q < 1) { c = +c.toPrecision(12); w = +w.toPrecision(12); }
    this.set({ center: c, width: w, voi_lut: -1 });
  }
  voiText(sep) { // what the VOI stage applies, for the status line and the corner
    const lut = this.model.get("voi_lut");
    if (lut >= 0) return `VOI LUT${sep}${this.meta.luts[lut].name}`;
    const fn = this.model.get("voi_function");
    const c = this.fmt(this.model.get("center")), w = this.fmt(this.model.get("width"));
    return `C${sep === " " ? " " : "="}${c} W${sep === " " ? " " : "="}${w}${fn === "LINEAR" ? "" : ` ${fn}`}`;
  }
  setPoint(point) {
    this.point = point;
    this.set({ crosshair: [...point] });
  }
  step(plane, delta, to) { // delta slices on, or to slice `to`
    const a = this.meta.planes[plane].axis, n = this.meta.shape[2 - a];
    const p = [...this.point];
    p[a] = Math.min(n - 1, Math.max(0, to === undefined ? p[a] + delta : to));
    if (p[a] === this.point[a]) return false;
    if (plane !== this.activePlane()) this.model.set("plane", plane);
    this.setPoint(p);
    return true;
  }
  reset() {
    this.views.forEach((v) => { v.zoom = 1; v.panX = 0; v.panY = 0; });
    const w0 = this.meta.initial;
    this.set({ voi_function: w0.function, center: w0.center, width: w0.width, voi_lut: w0.lut, invert: false });
    this.schedule("reset");
  }
  preset(n) {
    const p = this.meta.presets[n];
    if (p && p.lut >= 0) this.set({ voi_lut: p.lut });
    else if (p) this.set({ voi_function: p.function, center: p.center, width: p.width, voi_lut: -1 });
  }
  setSlab(mode, half) { // thick slab: null, "mip" or "minip", over 2 * half + 1 planes
    this.slab = mode ? { mode, half } : null;
    this.root.dataset.slab = mode ? `${mode}:${half}` : "";
  }
  cycleSlab() {
    const order = [null, "mip", "minip"];
    this.setSlab(order[(order.indexOf(this.slab ? this.slab.mode : null) + 1) % 3], this.slabHalf);
  }
  slabThickness(delta) {
    this.slabHalf = Math.max(1, Math.min(32, this.slabHalf + delta));
    if (this.slab) this.setSlab(this.slab.mode, this.slabHalf);
  }
  cine() { // play the slices of the active plane, looping, until stopped
    if (this.cineTimer) { clearInterval(this.cineTimer); this.cineTimer = 0; }
    else {
      this.cineTimer = setInterval(() => {
        const plane = this.activePlane();
        if (!this.step(plane, 1)) this.step(plane, 0, 0);
        this.schedule("cine");
      }, 1000 / 10);
    }
    this.root.dataset.cine = String(Boolean(this.cineTimer));
  }
  setTool(tool) { // "wl" (window/level drag), "ruler" or "roi"
    this.tool = this.tool === tool ? "wl" : tool;
    this.root.dataset.tool = this.tool;
    this.toolBtns.forEach((b) => b.classList.toggle("dv-on", b.dataset.tool === this.tool));
  }
  measure(view, a, b) { // a ruler from a to b (plane pixels): length by the pixel spacing
    const [, , ph, pw] = view.geometry(), m = this.meta;
    const mm = Boolean(m.spacing_kind);
    const length = Math.hypot((b[0] - a[0]) * (mm ? pw : 1), (b[1] - a[1]) * (mm ? ph : 1));
    const unit = mm ? "mm" : "px";
    this.ruler = { key: `${view.name}:${view.index()}`, plane: view.name, index: view.index(), a, b, length, unit };
    this.root.dataset.ruler = JSON.stringify({ plane: view.name, index: view.index(), a, b, length, unit });
    this.measureText();
  }
  region(view, a, b) { // an ROI: the pixels whose centres lie inside the rectangle a-b
    const [rows, cols, ph, pw] = view.geometry();
    const c0 = Math.max(0, Math.round(Math.min(a[0], b[0]))), c1 = Math.min(cols - 1, Math.round(Math.max(a[0], b[0])) - 1);
    const r0 = Math.max(0, Math.round(Math.min(a[1], b[1]))), r1 = Math.min(rows - 1, Math.round(Math.max(a[1], b[1])) - 1);
    const values = view.extract();
    if (!values || c1 < c0 || r1 < r0) { this.roi = null; return; }
    let n = 0, sum = 0, min = Infinity, max = -Infinity;
    for (let r = r0; r <= r1; r++) {
      for (let c = c0; c <= c1; c++) {
        const v = this.store.value(values[r * cols + c]);
        n++; sum += v; if (v < min) min = v; if (v > max) max = v;
      }
    }
    const mean = sum / n;
    let ss = 0; // two passes, as numpy's std (ddof=0)
    for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) { const d = this.store.value(values[r * cols + c]) - mean; ss += d * d; }
    const mm = Boolean(this.meta.spacing_kind);
    const stats = { plane: view.name, index: view.index(), c0, c1, r0, r1, n, mean, sd: Math.sqrt(ss / n), min, max,
      area: n * (mm ? ph * pw : 1), areaUnit: mm ? "mm²" : "px" };
    this.roi = { key: `${view.name}:${view.index()}`, ...stats };
    this.root.dataset.roi = JSON.stringify(stats);
    this.measureText();
  }
  measureText() {
    const u = this.meta.units ? ` ${this.meta.units}` : "", f = (x) => this.fmt(+x.toFixed(2));
    const parts = [];
    if (this.ruler) {
      parts.push(`ruler ${f(this.ruler.length)} ${this.ruler.unit}` +
        (this.meta.spacing_kind === "ImagerPixelSpacing" ? " at the detector (Imager Pixel Spacing: not corrected for magnification, PS3.3 10.7.1.3)" : ""));
    }
    if (this.roi) {
      const q = this.roi;
      parts.push(`ROI mean ${f(q.mean)} SD ${f(q.sd)} min ${f(q.min)} max ${f(q.max)}${u} · area ${f(q.area)} ${q.areaUnit} (${q.n} px)`);
    }
    this.measured.textContent = parts.join(" · ");
  }
  toggleLayout() {
    this.set({ arrangement: this.model.get("arrangement") === "one" ? "three" : "one" });
  }
  fullScreen() {
    if (document.fullscreenElement === this.root) document.exitFullscreen?.();
    else this.root.requestFullscreen?.().catch(() => {});
  }

  // -- drawing -----------------------------------------------------------------------
  schedule(kind, event) {
    if (kind && event && debug()) this.pendingInputs.push({ kind, t: event.timeStamp, h: performance.now(), type: event.type });
    if (this.frame) return;
    this.frame = requestAnimationFrame((ts) => this.draw(ts));
  }
  blendLabels(bits, px, cols, rows) { // the label overlay over the grey pixels, in place
    const m = this.meta.labels;
    if (!m || !bits) return;
    const styles = this.model.get("segment_styles");
    const segs = [];
    m.segments.forEach((g, n) => {
      const st = styles[n] || {};
      const A = Math.round(255 * st.opacity);
      if (st.visible && A > 0) segs.push({ mask: 2 ** g.bit, A, B: 255 - A, rgb: g.rgb, contour: g.style === "contour" });
    });
    if (!segs.length) return;
    let any = 0;
    for (const g of segs) any |= g.mask;
    const where = bits.where, n = where.length;
    for (let q = 0; q < n; q++) {
      const p = where[q], b = bits[p];
      if (!(b & any)) continue;
      const v = px[p];
      let r = v & 255, gr = (v >>> 8) & 255, bl = (v >>> 16) & 255;
      for (const g of segs) {
        const k = g.mask;
        if (!(b & k)) continue;
        if (g.contour) { // inside: all four neighbours in the mask, not on the edge
          const row = (p / cols) | 0, col = p - row * cols;
          if (col > 0 && col < cols - 1 && row > 0 && row < rows - 1 && (bits[p - 1] & k) &&
            (bits[p + 1] & k) && (bits[p - cols] & k) && (bits[p + cols] & k)) continue;
        }
        r = Math.floor((r * g.B + g.rgb[0] * g.A + 127) / 255);
        gr = Math.floor((gr * g.B + g.rgb[1] * g.A + 127) / 255);
        bl = Math.floor((bl * g.B + g.rgb[2] * g.A + 127) / 255);
      }
      px[p] = 0xff000000 | (bl << 16) | (gr << 8) | r;
    }
  }
  segmentsAt(ijk) { // the overlaid segments holding a canonical voxel
    const m = this.meta.labels, s = this.store;
    if (!m || !s.labels) return [];
    const b = s.labels[ijk[2] * s.nx * s.ny + ijk[1] * s.nx + ijk[0]];
    return m.segments.filter((g) => b & 2 ** g.bit)
      .map((g) => `${g.name} (${g.style === "contour" ? "RTSTRUCT" : "SEG"})`);
  }
  toggleLabels() { // "v": hide every segment, or show them all again
    const styles = this.model.get("segment_styles").map((st) => ({ ...st }));
    const on = !styles.some((st) => st.visible);
    styles.forEach((st) => { st.visible = on; });
    this.set({ segment_styles: styles });
  }
  lut() { // one table over the stored-value range (cached per window), or a function
    const m = this.meta;
    const c = this.model.get("center"), w = this.model.get("width");
    const fn = this.model.get("voi_function"), table = this.model.get("voi_lut");
    const mono1 = (m.photometric === "MONOCHROME1") !== this.model.get("invert");
    const f = table >= 0 ? voiTable(m.luts[table], mono1) : voiCurve(c, w, mono1, fn);
    const range = m.stored_range;
    if (!range || range[1] - range[0] >= 1 << 20) return [null, 0, f];
    const key = table >= 0 ? `lut${table}|${mono1}` : `${c}|${w}|${fn}|${mono1}`;
    if (!this.lutCache || this.lutCache.key !== key) {
      const n = range[1] - range[0] + 1;
      const lut = new Uint32Array(n);
      for (let s = 0; s < n; s++) {
        const g = f(this.store.value(s + range[0]));
        lut[s] = 0xff000000 | (g << 16) | (g << 8) | g;
      }
      this.lutCache = { key, lut };
    }
    return [this.lutCache.lut, range[0], f];
  }
  draw(ts) {
    this.frame = 0;
    if (this.store.live && !this.connected && !this.lost) this.setConnected(true);
    this.arrangeViews();
    const [lut32, base, f] = this.lut();
    let drawn = true;
    for (const v of this.shown()) drawn = v.draw(lut32, base, f) && drawn;
    this.updateStatus();
    if (drawn && this.pendingInputs.length) {
      const now = performance.now();
      const timings = (globalThis.__dicomViewerTimings = globalThis.__dicomViewerTimings || []);
      for (const p of this.pendingInputs) {
        timings.push({ kind: p.kind, type: p.type, input: p.t, handled: p.h, frame: ts, drawn: now,
          uid: this.meta.uid });
      }
      this.pendingInputs = [];
    }
    const a = this.meta.planes[this.activePlane()].axis;
    const info = { center: this.model.get("center"), width: this.model.get("width"),
      function: this.model.get("voi_function"), lut: this.model.get("voi_lut"),
      plane: this.activePlane(), slice: this.point[a], invert: this.model.get("invert"),
      crosshair: this.point.join(","), complete: this.store.complete(),
      labels: Boolean(this.store.labels),
      received: this.store.bytesReceived, size: this.boxSize };
    for (const [k, v] of Object.entries(info)) { // for tests and tools: the state drawn
      if (this.root.dataset[k] !== String(v)) this.root.dataset[k] = String(v);
    }
    if (drawn && this.preview) {
      this.preview.remove();
      this.preview = null;
      this.viewsEl.style.display = "";
    }
    this.root.dataset.ready = String(drawn);
  }
  shown() { // one view when asked, for a 2D image, or on a narrow cell
    const narrow = this.rootWidth > 0 && this.rootWidth < 480;
    return this.model.get("arrangement") === "one" || this.views.length === 1 || narrow
      ? this.views.filter((v) => v.name === this.activePlane()) : this.views;
  }
  scroller() { // the element the notebook scrolls in (JupyterLab's windowed panel), if any:
    // the outermost scrolling ancestor (an output area scrolls too, but grows with us)
    let found = null;
    for (let e = this.root.parentElement; e; e = e.parentElement) {
      const o = getComputedStyle(e).overflowY;
      if ((o === "auto" || o === "scroll") && e.clientHeight > 0) found = e;
    }
    return found;
  }
  fit() { // views as large as `size` allows, within the cell's width and the screen's height
    const full = document.fullscreenElement === this.root;
    const scroller = full ? null : this.scroller();
    const height = scroller ? Math.min(scroller.clientHeight, window.innerHeight) : window.innerHeight;
    const width = this.root.clientWidth;
    const key = `${width}|${height}|${full}|${this.shown().length}`;
    if (!width || key === this.fitKey) return;
    this.fitKey = key;
    this.rootWidth = width;
    const n = this.shown().length, gap = 6;
    const chrome = this.root.offsetHeight - this.viewsEl.offsetHeight - // controls, status, help
      (this.preview ? this.preview.offsetHeight : 0);
    const cap = full ? Infinity : this.meta.size;
    const size = Math.floor(Math.max(120, Math.min(cap, (width - gap * (n - 1) - 4) / n,
      height - chrome - 12)));
    if (size !== this.boxSize) {
      this.boxSize = size;
      this.views.forEach((v) => { v.box.style.width = `${size}px`; v.box.style.height = `${size}px`; });
      if (this.preview) this.preview.style.maxHeight = `${size}px`;
    }
    this.schedule(null);
  }
  arrangeViews() {
    const shown = this.shown();
    this.views.forEach((v) => { v.box.style.display = shown.includes(v) ? "" : "none"; });
    if (`${shown.length}` !== this.fitKey.split("|")[3]) this.fit();
  }

  // -- status and controls -----------------------------------------------------------
  fmt(x) { return Number.isInteger(x) ? String(x) : String(+x.toPrecision(6)); }
  updateStatus() { // the one status line: window, and the view under the pointer
    const m = this.meta, c = this.model.get("center"), w = this.model.get("width");
    const shown = this.shown();
    const view = this.hovered && shown.includes(this.hovered) ? this.hovered : this.activeView();
    const fn = this.model.get("voi_function"), lut = this.model.get("voi_lut");
    // window_bounds(): LINEAR has the half-unit shift, LINEAR_EXACT none, SIGMOID never
    // reaches either end (c -/+ w/2 is where it changes most)
    const linear = fn === "LINEAR";
    const left = linear ? c - 0.5 - (w - 1) / 2 : c - w / 2, right = linear ? c - 0.5 + (w - 1) / 2 : c + w / 2;
    const mono1 = (m.photometric === "MONOCHROME1") !== this.model.get("invert");
    const u = m.units ? ` ${m.units}` : "";
    const where = this.planeNames.length > 1 || m.shape[0] > 1
      ? `${view.name} ${view.index() + 1}/${view.count()} · ` : "";
    const curve = { LINEAR: "grey ramp", LINEAR_EXACT: "grey ramp (exact)", SIGMOID: "sigmoid, steepest" }[fn];
    let text = lut >= 0
      ? `${where}${this.voiText(": ")} · the header's table from ${m.luts[lut].first_mapped}${u} ` +
        `(${mono1 ? "white→black" : "black→white"})`
      : `${where}${this.voiText("=")} · ${curve} ${this.fmt(left)} … ` +
        `${this.fmt(right)}${u} (${mono1 ? "white→black" : "black→white"})`;
    if (this.cursorText) text += ` · ${this.cursorText}`;
    if (this.status.textContent !== text) this.status.textContent = text;
  }
  hover(view, event) {
    this.hovered = view;
    const px = view.toPixel(event);
    const values = view.values;
    if (!px || !values || view.valuesKey !== view.key()) {
      this.cursorText = ""; this.updateStatus(); return;
    }
    const [col, row] = px;
    const cols = view.geometry()[1];
    const value = this.store.value(values[row * cols + col]);
    const ijk = view.voxel(col, row);
    const A = this.meta.affine;
    const u = this.meta.units ? ` ${this.meta.units}` : "";
    let where = `(row ${row}, col ${col})`;
    let lps = null;
    if (A) {
      lps = [0, 1, 2].map((r) => A[r][0] * ijk[0] + A[r][1] * ijk[1] + A[r][2] * ijk[2] + A[r][3]);
      where = `LPS (${lps.map((x) => x.toFixed(1)).join(", ")}) mm`;
    }
    const inside = this.segmentsAt(ijk);
    this.cursorText = `${where}: ${this.fmt(value)}${u}` + (this.meta.labels
      ? ` · ${inside.length ? inside.join(", ") : "no label"}` : "");
    this.updateStatus();
    const now = performance.now();
    if (this.connected && (!this.lastCursor || now - this.lastCursor > 50)) {
      this.lastCursor = now;
      this.set({ cursor: { plane: view.name, row, column: col, voxel: ijk, lps, value,
        units: this.meta.units, labels: inside } });
    }
  }
  keys() { // every key, with its help text: the help line and the handler both read this
    const volume = this.planeNames.length > 1, plane = () => this.activePlane();
    const slices = this.meta.shape[0] > 1 || volume;
    const k = [];
    if (slices) {
      k.push([["ArrowUp", "ArrowRight"], "↑/→", "next slice", () => this.step(plane(), 1), "slice"]);
      k.push([["ArrowDown", "ArrowLeft"], "↓/←", "previous slice", () => this.step(plane(), -1), "slice"]);
      k.push([["PageUp"], "PgUp", "10 on", () => this.step(plane(), 10), "slice"]);
      k.push([["PageDown"], "PgDn", "10 back", () => this.step(plane(), -10), "slice"]);
      k.push([["Home"], "Home", "first slice", () => this.step(plane(), 0, 0), "slice"]);
      k.push([["End"], "End", "last slice", () => this.step(plane(), 0, Infinity), "slice"]);
      k.push([["p"], "p", "cine (play/stop)", () => this.cine(), "cine"]);
      k.push([["t"], "t", "thick slab: MIP, MinIP, off", () => this.cycleSlab(), "slab"]);
      k.push([["[", "]"], "[ ]", "slab thinner/thicker", (e) => this.slabThickness(e.key === "]" ? 1 : -1), "slab"]);
    }
    k.push([["1", "2", "3", "4", "5", "6", "7", "8", "9"], "1–9", "presets", (e) => this.preset(+e.key - 1), "preset"]);
    k.push([["i"], "i", "invert", () => this.set({ invert: !this.model.get("invert") }), "invert"]);
    k.push([["r"], "r", "reset", () => this.reset(), "reset"]);
    if (volume) {
      k.push([["a", "c", "s"], "a/c/s", "plane", (e) => this.set({ plane: { a: "axial", c: "coronal", s: "sagittal" }[e.key] }), "plane"]);
      k.push([["l"], "l", "1 or 3 views", () => this.toggleLayout(), "layout"]);
    }
    k.push([["m"], "m", "ruler", () => this.setTool("ruler"), "tool"]);
    k.push([["o"], "o", "ROI", () => this.setTool("roi"), "tool"]);
    k.push([["f"], "f", "full screen", () => this.fullScreen(), "fullscreen"]);
    if (this.meta.labels) k.push([["v"], "v", "labels on/off", () => this.toggleLabels(), "labels"]);
    k.push([["Escape"], "Esc", "leave the viewer", () => this.setActive(false), "leave"]);
    return k;
  }
  build() {
    const m = this.meta, root = this.root;
    root.classList.add("dv-root");
    root.dataset.uid = m.uid;
    root.tabIndex = 0;
    const bar = el("div", "dv-bar", root);
    this.presetSel = el("select", "dv-preset", bar);
    this.presetSel.title = "window presets (keys 1–9)";
    el("option", null, this.presetSel, "(custom)").value = "-1";
    m.presets.forEach((p, n) => {
      const what = p.lut >= 0 ? "VOI LUT table" : `C=${p.center} W=${p.width}${p.function === "LINEAR" ? "" : ` ${p.function}`}`;
      const o = el("option", null, this.presetSel, `${n < 9 ? `${n + 1}: ` : ""}${p.name} (${what})`);
      o.value = String(n);
    });
    this.presetSel.addEventListener("change", (e) => { this.preset(+this.presetSel.value); this.schedule("preset", e); });
    this.planeBtns = this.planeNames.length > 1 ? this.planeNames.map((name) => {
      const b = el("button", "dv-plane-btn", bar, name);
      b.dataset.plane = name;
      b.addEventListener("click", (e) => { this.set({ plane: name }); this.schedule("plane", e); });
      return b;
    }) : [];
    if (this.planeNames.length > 1) {
      this.layoutBtn = el("button", "dv-layout-btn", bar);
      this.layoutBtn.addEventListener("click", (e) => { this.toggleLayout(); this.schedule("layout", e); });
      this.interpSel = el("select", "dv-interp", bar);
      for (const k of ["nearest", "linear"]) el("option", null, this.interpSel, k).value = k;
      this.interpSel.addEventListener("change", () => this.set({ interpolation: this.interpSel.value }));
    }
    const inv = el("label", "dv-invert", bar);
    this.invertBox = el("input", null, inv);
    this.invertBox.type = "checkbox";
    inv.append(" invert");
    this.invertBox.addEventListener("change", (e) => { this.set({ invert: this.invertBox.checked }); this.schedule("invert", e); });
    const reset = el("button", "dv-reset", bar, "reset");
    reset.addEventListener("click", () => this.reset());
    this.toolBtns = [["ruler", "ruler"], ["roi", "ROI"]].map(([tool, label]) => {
      const b = el("button", "dv-tool", bar, label);
      b.dataset.tool = tool;
      b.addEventListener("click", () => this.setTool(tool));
      return b;
    });
    const full = el("button", "dv-full", bar, "full screen");
    full.addEventListener("click", () => this.fullScreen());
    this.activeLabel = el("span", "dv-active-label", bar, "click the image to use keys and wheel");
    const sliders = el("div", "dv-sliders", root);
    const slider = (cls, label) => {
      const row = el("label", `dv-slider ${cls}`, sliders);
      el("span", "dv-slider-name", row, label);
      const input = el("input", null, row);
      input.type = "range";
      const out = el("span", "dv-slider-value", row);
      return [input, out];
    };
    [this.cIn, this.cOut] = slider("dv-center", "center");
    [this.wIn, this.wOut] = slider("dv-width", "width");
    // the sliders span the data (and every window the menu offers), on the step grid
    const [lo, hi] = m.value_range;
    const wins = [m.initial, ...m.presets.filter((p) => p.lut < 0)];
    const snap = (v, round) => +(round(v / m.step) * m.step).toPrecision(12);
    Object.assign(this.cIn, { min: snap(Math.min(lo, ...wins.map((p) => p.center)), Math.floor),
      max: snap(Math.max(hi, ...wins.map((p) => p.center)), Math.ceil), step: m.step });
    Object.assign(this.wIn, { min: 1, step: m.step, // width >= 1 (PS3.3 C.11.2.1.2.1)
      max: snap(Math.max(hi - lo + m.step, 2, ...wins.map((p) => p.width)), Math.ceil) });
    this.cIn.addEventListener("input", (e) => { this.setWindow(+this.cIn.value, this.model.get("width")); this.schedule("wl", e); });
    this.wIn.addEventListener("input", (e) => { this.setWindow(this.model.get("center"), +this.wIn.value); this.schedule("wl", e); });
    if (m.shape[0] > 1 || this.planeNames.length > 1) {
      [this.sIn, this.sOut] = slider("dv-slice", "slice");
      this.sIn.min = 1; this.sIn.step = 1;
      this.sIn.addEventListener("input", (e) => {
        this.step(this.activePlane(), 0, +this.sIn.value - 1) && this.schedule("slice", e);
      });
    }
    if (m.labels) { // one control per segment: visible (in its colour) and opacity
      const row = el("div", "dv-segments", root);
      this.segControls = m.labels.segments.map((g, n) => {
        const item = el("label", "dv-segment", row);
        item.dataset.segment = String(n);
        item.title = `${g.name}: ${g.style === "contour" ? "RTSTRUCT contour" : "SEG"} (${g.source})`;
        const box = el("input", null, item);
        box.type = "checkbox";
        const swatch = el("span", "dv-swatch", item);
        const colour = `rgb(${g.rgb.join(",")})`; // filled for SEG, an outline for RTSTRUCT
        if (g.style === "contour") swatch.style.border = `2px solid ${colour}`;
        else swatch.style.background = colour;
        el("span", null, item, g.name);
        const alpha = el("input", "dv-opacity", item);
        Object.assign(alpha, { type: "range", min: 0, max: 1, step: 0.05 });
        alpha.title = `${g.name}: opacity`;
        const change = (e) => {
          const styles = this.model.get("segment_styles").map((st) => ({ ...st }));
          styles[n] = { visible: box.checked, opacity: +alpha.value };
          this.set({ segment_styles: styles });
          this.schedule("labels", e);
        };
        box.addEventListener("change", change);
        alpha.addEventListener("input", change);
        return [box, alpha];
      });
    }
    this.status = el("div", "dv-status", root);
    this.notice = el("div", "dv-notice", root);
    // The first view as Python rendered it, shown until the data is here (or for good
    // when a notebook saved with widget state is opened without its kernel).
    const preview = this.model.get("_preview");
    if (preview) {
      this.preview = el("img", "dv-preview", root);
      this.preview.src = `data:image/png;base64,${preview}`;
      this.preview.alt = "the viewer's first view (run the cell to interact)";
    }
    this.viewsEl = el("div", "dv-views", root);
    if (this.preview) this.viewsEl.style.display = "none";
    this.views = this.planeNames.map((name) => new View(this, name));
    this.views.forEach((v) => { this.viewsEl.appendChild(v.box); this.bindView(v); });
    this.measured = el("div", "dv-measured", root); // below the views: they never move
    const help = el("div", "dv-help", root);
    const mouse = "drag: window (→ width, ↓ center) · " +
      (this.planeNames.length > 1 ? "click: crosshair · " : "") +
      "wheel: slice · ctrl-wheel/right-drag: zoom · shift-/middle-drag: pan · double-click: reset";
    help.textContent = `${mouse} · keys: ${this.keys().map(([, label, what]) => `${label} ${what}`).join(" · ")}`;
    // While active every key is the viewer's: in the capture phase on the root, before
    // any JupyterLab handler (they listen on the document) can see it.
    for (const type of ["keydown", "keypress", "keyup"]) root.addEventListener(type, (e) => this.key(e), true);
    root.addEventListener("focusin", () => this.setActive(true));
    root.addEventListener("focusout", (e) => { if (!root.contains(e.relatedTarget)) this.setActive(false); });
  }
  syncControls() {
    const m = this.meta, c = this.model.get("center"), w = this.model.get("width");
    this.cIn.value = c; this.wIn.value = w;
    this.cOut.textContent = this.fmt(c); this.wOut.textContent = this.fmt(w);
    const fn = this.model.get("voi_function"), lut = this.model.get("voi_lut");
    const match = m.presets.findIndex((p) => (lut >= 0 ? p.lut === lut
      : p.lut < 0 && p.center === c && p.width === w && p.function === fn));
    this.presetSel.value = String(match);
    this.invertBox.checked = this.model.get("invert");
    if (this.segControls) {
      const styles = this.model.get("segment_styles");
      this.segControls.forEach(([box, alpha], n) => {
        box.checked = Boolean(styles[n] && styles[n].visible);
        alpha.value = styles[n] ? styles[n].opacity : 1;
      });
    }
    if (this.sIn) {
      const a = m.planes[this.activePlane()].axis;
      this.sIn.max = m.shape[2 - a];
      this.sIn.value = this.point[a] + 1;
      this.sOut.textContent = `${this.point[a] + 1} / ${m.shape[2 - a]}`;
    }
    this.planeBtns.forEach((b) => b.classList.toggle("dv-on", b.dataset.plane === this.activePlane()));
    if (this.layoutBtn) this.layoutBtn.textContent = this.model.get("arrangement") === "one" ? "3 views" : "1 view";
    if (this.interpSel) this.interpSel.value = this.model.get("interpolation");
  }
  key(e) {
    if (!this.active) return; // inactive: the key is JupyterLab's
    e.stopPropagation(); // active: no key reaches JupyterLab
    if (e.type !== "keydown") return;
    const t = e.target;
    const own = t instanceof HTMLSelectElement || (t instanceof HTMLInputElement && t.type === "range");
    if (own && e.key !== "Escape" && !/^[1-9ifr]$/.test(e.key)) return; // a menu's or slider's own keys
    if (e.ctrlKey || e.metaKey || e.altKey || e.key === "Tab") return; // the browser's
    e.preventDefault(); // no page scrolling by Space, Home, End, arrows... while active
    const hit = this.keys().find(([keys]) => keys.includes(e.key));
    if (!hit) return;
    if (e.key !== "Escape" && !this.connected) return;
    const changed = hit[3](e);
    if (changed !== false) this.schedule(hit[4], e);
  }
  bindView(v) {
    const box = v.box;
    let drag = null;
    // right-drag zooms: no browser or JupyterLab context menu over the image (only there)
    box.addEventListener("contextmenu", (e) => { e.preventDefault(); e.stopPropagation(); });
    box.addEventListener("pointerdown", (e) => {
      this.root.focus({ preventScroll: true });
      e.preventDefault();
      if (!this.connected) return;
      if (v.name !== this.activePlane()) this.set({ plane: v.name });
      const mode = e.button === 2 ? "zoom" : e.button === 1 || e.shiftKey ? "pan" : this.tool;
      drag = { mode, x: e.clientX, y: e.clientY, moved: false, at: v.toImage(e), c: this.model.get("center"),
        w: this.model.get("width"), zoom: v.zoom, panX: v.panX, panY: v.panY };
      box.setPointerCapture(e.pointerId);
    });
    box.addEventListener("pointermove", (e) => {
      this.hover(v, e); // the value under the pointer, during a drag too
      if (!drag) return;
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
      if (!drag.moved) return;
      if (drag.mode === "wl") {
        const s = this.meta.sensitivity;
        this.setWindow(drag.c + dy * s, drag.w + dx * s);
        this.schedule("wl", e);
      } else if (drag.mode === "ruler" || drag.mode === "roi") {
        (drag.mode === "ruler" ? this.measure : this.region).call(this, v, drag.at, v.toImage(e));
        this.schedule(drag.mode, e);
      } else if (drag.mode === "zoom") {
        v.zoom = Math.min(32, Math.max(0.25, drag.zoom * Math.exp(-dy / 150)));
        this.schedule("zoom", e);
      } else {
        v.panX = drag.panX + dx; v.panY = drag.panY + dy;
        this.schedule("pan", e);
      }
    });
    const end = (e) => {
      if (!drag) return;
      if (!drag.moved && drag.mode === "wl" && this.views.length > 1) {
        const px = v.toPixel(e);
        if (px) { this.setPoint(v.voxel(px[0], px[1])); this.schedule("crosshair", e); }
      }
      drag = null;
    };
    box.addEventListener("pointerup", end);
    box.addEventListener("pointercancel", () => { drag = null; });
    box.addEventListener("pointerleave", () => {
      if (!drag) { this.hovered = null; this.cursorText = ""; this.updateStatus(); }
    });
    box.addEventListener("dblclick", (e) => { e.preventDefault(); if (this.connected) this.reset(); });
    box.addEventListener("wheel", (e) => {
      if (!this.active || !this.connected) return; // inactive: the page scrolls
      e.preventDefault();
      if (e.ctrlKey) {
        const r = box.getBoundingClientRect();
        const f = Math.exp(-e.deltaY / 300), old = v.zoom;
        v.zoom = Math.min(32, Math.max(0.25, v.zoom * f));
        // keep the point under the pointer still
        const mx = e.clientX - r.left - box.clientWidth / 2, my = e.clientY - r.top - box.clientHeight / 2;
        v.panX = mx - ((mx - v.panX) * v.zoom) / old;
        v.panY = my - ((my - v.panY) * v.zoom) / old;
        this.schedule("zoom", e);
      } else {
        // one slice per wheel notch (about 100 px in Chrome, 3 lines elsewhere); a busy
        // page gets several notches coalesced into one event; a trackpad's small steps add up
        const px = e.deltaY * (e.deltaMode === 1 ? 100 / 3 : e.deltaMode === 2 ? 800 : 1);
        let steps = 0;
        if (Math.abs(px) >= 50) {
          steps = Math.sign(px) * Math.max(1, Math.round(Math.abs(px) / 100));
          v.wheel = 0;
        } else {
          v.wheel = (v.wheel || 0) + px;
          if (Math.abs(v.wheel) >= 100) { steps = Math.sign(v.wheel); v.wheel -= steps * 100; }
        }
        if (steps && this.step(v.name, steps)) this.schedule("slice", e);
      }
    }, { passive: false });
  }
}

function render({ model, el: root }) {
  const app = new App(model, root);
  return () => app.destroy();
}

export default { render };
