// DICOM Workbook viewer: the browser half of helpers.image.viewer.Viewer (an anywidget ES module,
// loaded as it is: no build step, no CDN).
//
// Python sends modality values as binary buffers (int16/int32 stored values, plus slope
// and intercept when the values are not whole; float64 only as a last resort). The
// browser applies the VOI LUT (PS3.3 C.11.2.1.2.1, LINEAR) with the arithmetic of
// helpers.image.pixels.window, which is DCMTK's: double precision, truncation toward zero, and
// for MONOCHROME1 the ramp computed from 255 down to 0 (PS3.3 C.7.6.3.1.2). Each canvas
// holds exactly one canvas pixel per plane pixel; CSS scales it to the physical aspect.
//
// Volume data is held in canonical order (z, y, x increasing towards S, P, L), in slabs
// of whole axial slices. A volume within the memory budget is fetched whole (the slab
// under the cursor first); a larger one keeps the slabs near the shown slice, and
// coronal/sagittal planes are cut by Python and sent one by one.

const AXIS = { axial: 2, frame: 2, coronal: 1, sagittal: 0 }; // index into point [i, j, k]
const TYPES = { int16: Int16Array, int32: Int32Array, float64: Float64Array };
const stores = new Map();
const timings = (globalThis.__dicomViewerTimings = globalThis.__dicomViewerTimings || []);

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

// ------------------------------------------------------------------------------- data
class Store {
  constructor(model) {
    const m = (this.meta = model.get("_meta"));
    this.model = model;
    [this.nz, this.ny, this.nx] = m.shape;
    this.Type = TYPES[m.dtype];
    this.sliceLen = this.ny * this.nx;
    this.slabSlices = m.slab_slices;
    this.nslabs = Math.ceil(this.nz / this.slabSlices);
    this.whole = m.whole; // the whole volume fits the budget
    this.slabs = new Map(); // slab id -> typed array (whole: all kept; else LRU)
    this.planes = new Map(); // "coronal:12" -> typed array (over budget only)
    this.pending = new Set();
    this.listeners = new Set();
    this.prefetched = false;
    this.bytesReceived = 0;
    model.on("msg:custom", (msg, buffers) => this.receive(msg, buffers));
  }
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
  post(content) { // no kernel (a notebook reopened from saved widget state): no data
    try { this.model.send(content); } catch (err) { console.warn("viewer: no kernel", err); }
  }
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
    const dv = buffers[0];
    const bytes = dv.buffer.slice(dv.byteOffset, dv.byteOffset + dv.byteLength);
    this.bytesReceived += dv.byteLength;
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
    this.listeners.forEach((f) => f(msg));
  }
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
    const edges = app.meta.edges[name] || ["", "", "", ""];
    ["top", "bottom", "left", "right"].forEach((side, n) => {
      el("div", `dv-letter dv-${side}`, this.box, edges[n]);
    });
    this.label = el("div", "dv-label", this.box);
    this.loading = el("div", "dv-loading", this.box, "loading…");
    this.values = null; this.valuesKey = "";
  }
  geometry() { // rows, cols and (height, width) mm of one pixel of this plane
    const [nz, ny, nx] = this.app.meta.shape;
    const [dz, dy, dx] = this.app.meta.spacing;
    if (this.name === "coronal") return [nz, nx, dz, dx];
    if (this.name === "sagittal") return [nz, ny, dz, dy];
    return [ny, nx, dy, dx];
  }
  index() { return this.app.point[AXIS[this.name]]; }
  count() { return this.app.meta.shape[2 - AXIS[this.name]]; }
  extract() { // the plane's stored values in display order (Volume.plane), or null
    const key = `${this.name}:${this.index()}`;
    if (this.values && this.valuesKey === key) return this.values;
    const s = this.app.store;
    const [nz, ny, nx] = [s.nz, s.ny, s.nx];
    let out = null;
    const k = this.index();
    if (AXIS[this.name] === 2) {
      out = s.slice(k);
    } else if (!s.whole) {
      out = s.plane(this.name, k);
    } else if (s.complete()) {
      const cols = this.name === "coronal" ? nx : ny;
      out = new s.Type(nz * cols);
      for (let r = 0; r < nz; r++) {
        const src = s.slice(nz - 1 - r);
        if (this.name === "coronal") out.set(src.subarray(k * nx, (k + 1) * nx), r * nx);
        else for (let j = 0; j < ny; j++) out[r * ny + j] = src[j * nx + k];
      }
    }
    if (out) { this.values = out; this.valuesKey = key; }
    return out;
  }
  layout() { // screen placement of the image inside the box
    const [rows, cols, ph, pw] = this.geometry();
    const bw = this.app.boxSize, bh = this.app.boxSize; // set by us: no layout read
    const scale = Math.min(bw / (cols * pw), bh / (rows * ph)) * this.zoom;
    const w = cols * pw * scale, h = rows * ph * scale;
    return { x: (bw - w) / 2 + this.panX, y: (bh - h) / 2 + this.panY, w, h, rows, cols };
  }
  toPixel(event) { // (col, row) under the pointer, or null outside the image
    const r = this.box.getBoundingClientRect();
    const L = this.layout();
    const col = Math.floor(((event.clientX - r.left - L.x) / L.w) * L.cols);
    const row = Math.floor(((event.clientY - r.top - L.y) / L.h) * L.rows);
    if (col < 0 || row < 0 || col >= L.cols || row >= L.rows) return null;
    return [col, row];
  }
  voxel(col, row) { // canonical (i, j, k) of a plane pixel
    const nz = this.app.meta.shape[0];
    const p = this.app.point;
    if (this.name === "coronal") return [col, p[1], nz - 1 - row];
    if (this.name === "sagittal") return [p[0], col, nz - 1 - row];
    return [col, row, p[2]];
  }
  draw(lut32, lutBase, ramp1) {
    const values = this.extract();
    const L = this.layout();
    this.label.textContent = this.count() > 1 || this.name !== "frame"
      ? `${this.name} ${this.index() + 1}/${this.count()}` : "";
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
    this.ctx.putImageData(this.image, 0, 0);
    Object.assign(c.style, { left: `${L.x}px`, top: `${L.y}px`, width: `${L.w}px`,
      height: `${L.h}px` });
    c.style.imageRendering = this.app.model.get("interpolation") === "linear" ? "auto" : "pixelated";
    this.drawCross(L);
    return true;
  }
  drawCross(L) {
    const p = this.app.point, nz = this.app.meta.shape[0];
    const show = this.app.views.length > 1;
    this.svg.style.display = show ? "" : "none";
    if (!show) return;
    let col = p[0], row = p[1];
    if (this.name === "coronal") { col = p[0]; row = nz - 1 - p[2]; }
    if (this.name === "sagittal") { col = p[1]; row = nz - 1 - p[2]; }
    const x = L.x + ((col + 0.5) / L.cols) * L.w, y = L.y + ((row + 0.5) / L.rows) * L.h;
    const set = (line, a) => Object.entries(a).forEach(([k, v]) => line.setAttribute(k, v));
    set(this.h, { x1: L.x, x2: L.x + L.w, y1: y, y2: y });
    set(this.v, { x1: x, x2: x, y1: L.y, y2: L.y + L.h });
  }
}

// -------------------------------------------------------------------------------- app
class App {
  constructor(model, el_) {
    this.model = model;
    this.root = el_;
    this.meta = model.get("_meta");
    const uid = this.meta.uid;
    if (!stores.has(uid)) stores.set(uid, new Store(model));
    this.store = stores.get(uid);
    this.point = [...model.get("crosshair")];
    this.pendingInputs = [];
    this.frame = 0;
    this.build();
    this.onData = () => this.schedule("data");
    this.store.listeners.add(this.onData);
    for (const name of ["center", "width", "invert", "interpolation", "layout"]) {
      model.on(`change:${name}`, () => { this.syncControls(); this.schedule(null); });
    }
    model.on("change:crosshair", () => { this.point = [...model.get("crosshair")]; this.syncSlice(); this.schedule(null); });
    model.on("change:slice", () => { this.fromSlice(); this.schedule(null); });
    model.on("change:plane", () => { this.syncSlice(); this.schedule(null); });
    this.rootWidth = 0;
    this.resize = new ResizeObserver((entries) => {
      this.rootWidth = entries[entries.length - 1].contentRect.width;
      this.schedule(null);
    });
    this.resize.observe(this.root);
    this.syncControls();
    this.store.prefetch(this.point[2]);
    this.schedule(null);
  }
  destroy() { this.store.listeners.delete(this.onData); this.resize.disconnect(); }

  // -- state -------------------------------------------------------------------------
  activePlane() { return this.model.get("plane"); }
  set(changes) { // change the model and tell Python at once: ipywidgets itself holds
    // back further messages while the kernel is busy, and drops the echo of an older
    // value (a throttle here would let such an echo undo a newer local change)
    for (const [k, v] of Object.entries(changes)) this.model.set(k, v);
    try { this.model.save_changes(); } catch (err) { console.warn("viewer: no kernel", err); }
  }
  setWindow(c, w) {
    const q = this.meta.step;
    c = Math.round(c / q) * q; w = Math.max(1, Math.round(w / q) * q);
    if (q < 1) { c = +c.toPrecision(12); w = +w.toPrecision(12); }
    this.set({ center: c, width: w });
  }
  setPoint(point) {
    this.point = point;
    this.set({ crosshair: [...point], slice: point[AXIS[this.activePlane()]] });
  }
  step(plane, delta) {
    const a = AXIS[plane], n = this.meta.shape[2 - a];
    const p = [...this.point];
    p[a] = Math.min(n - 1, Math.max(0, p[a] + delta));
    if (p[a] === this.point[a]) return false;
    if (plane !== this.activePlane()) this.model.set("plane", plane);
    this.setPoint(p);
    return true;
  }
  fromSlice() { // Python (or the slider) set `slice`: move the point of the active plane
    const a = AXIS[this.activePlane()];
    const s = this.model.get("slice");
    if (this.point[a] !== s) { this.point[a] = s; this.set({ crosshair: [...this.point] }); }
    this.syncControls();
  }
  syncSlice() {
    const s = this.point[AXIS[this.activePlane()]];
    if (this.model.get("slice") !== s) this.set({ slice: s });
    this.syncControls();
  }
  reset() {
    this.views.forEach((v) => { v.zoom = 1; v.panX = 0; v.panY = 0; });
    const w0 = this.meta.initial;
    this.set({ center: w0.center, width: w0.width, invert: false });
    this.schedule("reset");
  }
  preset(n) {
    const p = this.meta.presets[n];
    if (p) this.set({ center: p.center, width: p.width });
  }

  // -- drawing -----------------------------------------------------------------------
  schedule(kind, event) {
    if (kind && event) this.pendingInputs.push({ kind, t: event.timeStamp, h: performance.now(), type: event.type });
    if (this.frame) return;
    this.frame = requestAnimationFrame((ts) => this.draw(ts));
  }
  lut() { // one table over the stored-value range (cached per window), or a function
    const m = this.meta;
    const c = this.model.get("center"), w = this.model.get("width");
    const mono1 = (m.photometric === "MONOCHROME1") !== this.model.get("invert");
    const f = ramp(c, w, mono1);
    if (m.dtype === "float64" || m.vmax - m.vmin >= 1 << 20) return [null, 0, f];
    const key = `${c}|${w}|${mono1}`;
    if (!this.lutCache || this.lutCache.key !== key) {
      const n = m.vmax - m.vmin + 1;
      const lut = new Uint32Array(n);
      for (let s = 0; s < n; s++) {
        const g = f(this.store.value(s + m.vmin));
        lut[s] = 0xff000000 | (g << 16) | (g << 8) | g;
      }
      this.lutCache = { key, lut };
    }
    return [this.lutCache.lut, m.vmin, f];
  }
  draw(ts) {
    this.frame = 0;
    this.arrangeViews();
    const [lut32, base, f] = this.lut();
    let drawn = true;
    for (const v of this.shown()) drawn = v.draw(lut32, base, f) && drawn;
    this.updateStatus();
    const now = performance.now();
    if (drawn && this.pendingInputs.length) {
      for (const p of this.pendingInputs) {
        timings.push({ kind: p.kind, type: p.type, input: p.t, handled: p.h, frame: ts, drawn: now,
          uid: this.meta.uid });
      }
      if (timings.length > 20000) timings.splice(0, timings.length - 20000);
      this.pendingInputs = [];
    }
    const info = { center: this.model.get("center"), width: this.model.get("width"),
      plane: this.activePlane(), slice: this.model.get("slice"), invert: this.model.get("invert"),
      crosshair: this.point.join(","), complete: this.store.complete(),
      received: this.store.bytesReceived };
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
  shown() { // one view when asked, for a 2D image, or on a narrow screen
    const narrow = this.rootWidth > 0 && this.rootWidth < 480;
    return this.model.get("layout") === "one" || this.meta.planes.length === 1 || narrow
      ? this.views.filter((v) => v.name === this.activePlane()) : this.views;
  }
  arrangeViews() {
    const shown = this.shown();
    this.views.forEach((v) => { v.box.style.display = shown.includes(v) ? "" : "none"; });
    const one = shown.length === 1;
    const size = one ? this.meta.size : Math.floor(Math.min(this.meta.size,
      Math.max(160, ((this.rootWidth || 3 * 340) - 24) / 3)));
    if (size !== this.boxSize) {
      this.boxSize = size;
      this.views.forEach((v) => { v.box.style.width = `${size}px`; v.box.style.height = `${size}px`; });
    }
  }

  // -- status and controls -----------------------------------------------------------
  fmt(x) { return Number.isInteger(x) ? String(x) : String(+x.toPrecision(6)); }
  updateStatus() {
    const m = this.meta, c = this.model.get("center"), w = this.model.get("width");
    const plane = this.activePlane(), a = AXIS[plane];
    const left = c - 0.5 - (w - 1) / 2, right = c - 0.5 + (w - 1) / 2;
    const mono1 = (m.photometric === "MONOCHROME1") !== this.model.get("invert");
    const u = m.units ? ` ${m.units}` : "";
    const where = m.planes.length > 1 || m.shape[0] > 1
      ? `${plane} ${this.point[a] + 1}/${m.shape[2 - a]} · ` : "";
    let text = `${where}C=${this.fmt(c)} W=${this.fmt(w)} · grey ramp ${this.fmt(left)} … ` +
      `${this.fmt(right)}${u} (${mono1 ? "white→black" : "black→white"})`;
    const cur = this.cursorText;
    if (cur) text += ` · ${cur}`;
    if (this.status.textContent !== text) this.status.textContent = text;
  }
  hover(view, event) {
    const px = view.toPixel(event);
    const values = view.values;
    if (!px || !values || view.valuesKey !== `${view.name}:${view.index()}`) {
      this.cursorText = ""; this.updateStatus(); return;
    }
    const [col, row] = px;
    const [rows, cols] = view.geometry();
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
    this.cursorText = `${where}: ${this.fmt(value)}${u}`;
    this.updateStatus();
    const now = performance.now();
    if (!this.lastCursor || now - this.lastCursor > 50) {
      this.lastCursor = now;
      this.set({ cursor: { plane: view.name, row, column: col, voxel: ijk, lps, value,
        units: this.meta.units } });
    }
    void rows;
  }
  build() {
    const m = this.meta, root = this.root;
    root.classList.add("dv-root");
    root.dataset.uid = m.uid;
    root.tabIndex = 0;
    const bar = el("div", "dv-bar", root);
    this.presetSel = el("select", "dv-preset", bar);
    el("option", null, this.presetSel, "(custom)").value = "-1";
    m.presets.forEach((p, n) => {
      const o = el("option", null, this.presetSel, `${n < 9 ? `${n + 1}: ` : ""}${p.name} (C=${p.center} W=${p.width})`);
      o.value = String(n);
    });
    this.presetSel.addEventListener("change", (e) => { this.preset(+this.presetSel.value); this.schedule("preset", e); });
    this.planeBtns = m.planes.length > 1 ? m.planes.map((name) => {
      const b = el("button", "dv-plane-btn", bar, name);
      b.dataset.plane = name;
      b.addEventListener("click", (e) => { this.set({ plane: name }); this.schedule("plane", e); });
      return b;
    }) : [];
    if (m.planes.length > 1) {
      this.layoutBtn = el("button", "dv-layout-btn", bar);
      this.layoutBtn.addEventListener("click", (e) => {
        this.set({ layout: this.model.get("layout") === "one" ? "three" : "one" });
        this.schedule("layout", e);
      });
      this.interpSel = el("select", "dv-interp", bar);
      for (const k of ["nearest", "linear"]) el("option", null, this.interpSel, k).value = k;
      this.interpSel.addEventListener("change", () => this.set({ interpolation: this.interpSel.value }));
    }
    const inv = el("label", "dv-invert", bar);
    this.invertBox = el("input", null, inv);
    this.invertBox.type = "checkbox";
    inv.append(" invert (i)");
    this.invertBox.addEventListener("change", (e) => { this.set({ invert: this.invertBox.checked }); this.schedule("invert", e); });
    const reset = el("button", "dv-reset", bar, "reset");
    reset.addEventListener("click", () => this.reset());
    const slider = (cls, label) => {
      const row = el("label", `dv-slider ${cls}`, root);
      el("span", "dv-slider-name", row, label);
      const input = el("input", null, row);
      input.type = "range";
      const out = el("span", "dv-slider-value", row);
      return [input, out];
    };
    [this.cIn, this.cOut] = slider("dv-center", "center");
    [this.wIn, this.wOut] = slider("dv-width", "width");
    const span = Math.max(m.vmax_value - m.vmin_value, m.step);
    const snap = (v, round) => +(round(v / m.step) * m.step).toPrecision(12); // on the step grid
    Object.assign(this.cIn, { min: snap(m.vmin_value - span / 2, Math.floor),
      max: snap(m.vmax_value + span / 2, Math.ceil), step: m.step });
    Object.assign(this.wIn, { min: 1, max: Math.max(2 * span, 2), step: m.step }); // width >= 1
    this.cIn.addEventListener("input", (e) => { this.setWindow(+this.cIn.value, this.model.get("width")); this.schedule("wl", e); });
    this.wIn.addEventListener("input", (e) => { this.setWindow(this.model.get("center"), +this.wIn.value); this.schedule("wl", e); });
    if (m.shape[0] > 1 || m.planes.length > 1) {
      [this.sIn, this.sOut] = slider("dv-slice", "slice");
      this.sIn.min = 1; this.sIn.step = 1;
      this.sIn.addEventListener("input", (e) => {
        const plane = this.activePlane();
        this.step(plane, +this.sIn.value - 1 - this.point[AXIS[plane]]);
        this.schedule("slice", e);
      });
    }
    this.status = el("div", "dv-status", root);
    // The first view as Python rendered it, shown until the data is here (or for good
    // when a notebook saved with widget state is opened without a kernel).
    const preview = this.model.get("_preview");
    if (preview) {
      this.preview = el("img", "dv-preview", root);
      this.preview.src = `data:image/png;base64,${preview}`;
      this.preview.alt = "the viewer's first view (run the cell to interact)";
    }
    this.viewsEl = el("div", "dv-views", root);
    if (this.preview) this.viewsEl.style.display = "none";
    this.views = m.planes.map((name) => new View(this, name));
    this.views.forEach((v) => { this.viewsEl.appendChild(v.box); this.bindView(v); });
    const help = el("div", "dv-help", root);
    help.textContent = "drag: window (→ width, ↓ center) · click: crosshair · wheel/↑↓: slice · " +
      "ctrl-wheel/right-drag: zoom · shift-/middle-drag: pan · double-click: reset · " +
      "1–9: presets · i: invert" + (m.planes.length > 1 ? " · a/c/s: plane · l: 1 or 3 views" : "");
    root.addEventListener("keydown", (e) => this.key(e));
  }
  syncControls() {
    const m = this.meta, c = this.model.get("center"), w = this.model.get("width");
    this.cIn.value = c; this.wIn.value = w;
    this.cOut.textContent = this.fmt(c); this.wOut.textContent = this.fmt(w);
    const match = m.presets.findIndex((p) => p.center === c && p.width === w);
    this.presetSel.value = String(match);
    this.invertBox.checked = this.model.get("invert");
    if (this.sIn) {
      const a = AXIS[this.activePlane()];
      this.sIn.max = m.shape[2 - a];
      this.sIn.value = this.point[a] + 1;
      this.sOut.textContent = `${this.point[a] + 1} / ${m.shape[2 - a]}`;
    }
    this.planeBtns.forEach((b) => b.classList.toggle("dv-on", b.dataset.plane === this.activePlane()));
    if (this.layoutBtn) this.layoutBtn.textContent = this.model.get("layout") === "one" ? "3 views" : "1 view";
    if (this.interpSel) this.interpSel.value = this.model.get("interpolation");
  }
  key(e) {
    if (e.target instanceof HTMLInputElement && e.target.type !== "checkbox" && e.target.type !== "range") return;
    if (e.target instanceof HTMLSelectElement) return;
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    const plane = this.activePlane();
    let done = true;
    if (e.key === "ArrowUp" || e.key === "ArrowRight") this.step(plane, 1) && this.schedule("slice", e);
    else if (e.key === "ArrowDown" || e.key === "ArrowLeft") this.step(plane, -1) && this.schedule("slice", e);
    else if (e.key === "PageUp") this.step(plane, 10) && this.schedule("slice", e);
    else if (e.key === "PageDown") this.step(plane, -10) && this.schedule("slice", e);
    else if (/^[1-9]$/.test(e.key)) { this.preset(+e.key - 1); this.schedule("preset", e); }
    else if (e.key === "i") { this.set({ invert: !this.model.get("invert") }); this.schedule("invert", e); }
    else if (e.key === "r") this.reset();
    else if (this.meta.planes.length > 1 && "acs".includes(e.key) && e.key.length === 1) {
      this.set({ plane: { a: "axial", c: "coronal", s: "sagittal" }[e.key] });
      this.schedule("plane", e);
    } else if (this.meta.planes.length > 1 && e.key === "l") {
      this.set({ layout: this.model.get("layout") === "one" ? "three" : "one" });
      this.schedule("layout", e);
    } else done = false;
    if (done) { e.preventDefault(); e.stopPropagation(); }
  }
  bindView(v) {
    const box = v.box;
    let drag = null;
    // right-drag zooms: no browser or JupyterLab context menu over the image (only there)
    box.addEventListener("contextmenu", (e) => { e.preventDefault(); e.stopPropagation(); });
    box.addEventListener("pointerdown", (e) => {
      this.root.focus({ preventScroll: true });
      if (v.name !== this.activePlane()) this.set({ plane: v.name });
      const mode = e.button === 2 ? "zoom" : e.button === 1 || e.shiftKey ? "pan" : "wl";
      drag = { mode, x: e.clientX, y: e.clientY, moved: false, c: this.model.get("center"),
        w: this.model.get("width"), zoom: v.zoom, panX: v.panX, panY: v.panY };
      box.setPointerCapture(e.pointerId);
      e.preventDefault();
    });
    box.addEventListener("pointermove", (e) => {
      if (!drag) { this.hover(v, e); return; }
      const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
      if (Math.abs(dx) + Math.abs(dy) > 2) drag.moved = true;
      if (!drag.moved) return;
      if (drag.mode === "wl") {
        const s = this.meta.sensitivity;
        this.setWindow(drag.c + dy * s, drag.w + dx * s);
        this.schedule("wl", e);
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
      if (!drag.moved && drag.mode === "wl" && this.meta.planes.length > 1) {
        const px = v.toPixel(e);
        if (px) { this.setPoint(v.voxel(px[0], px[1])); this.schedule("crosshair", e); }
      }
      drag = null;
    };
    box.addEventListener("pointerup", end);
    box.addEventListener("pointercancel", () => { drag = null; });
    box.addEventListener("pointerleave", () => { if (!drag) { this.cursorText = ""; this.updateStatus(); } });
    box.addEventListener("dblclick", (e) => { e.preventDefault(); this.reset(); });
    box.addEventListener("wheel", (e) => {
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
        if (steps) {
          if (this.step(v.name, steps)) this.schedule("slice", e);
        }
      }
    }, { passive: false });
  }
}

function initialize({ model }) {
  const uid = model.get("_meta").uid;
  if (!stores.has(uid)) stores.set(uid, new Store(model));
}

function render({ model, el: root }) {
  const app = new App(model, root);
  return () => app.destroy();
}

export default { initialize, render };
