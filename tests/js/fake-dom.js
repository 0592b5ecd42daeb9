// Just enough of the DOM for the unit tests of the pages' widgets (message list, presence,
// composer, notice): elements with children, text, dataset, attributes and events. Text is
// text: setting innerHTML throws, so a widget that would parse markup fails its test.

class FakeElement extends EventTarget {
  constructor(tagName) {
    super();
    this.tagName = tagName.toUpperCase();
    this.parent = null;
    this.childNodes = []; // FakeElements and strings (text nodes)
    this.dataset = {};
    this.attributes = new Map();
    this.className = "";
    this.hidden = false;
    this.title = "";
    this.scrollTop = 0;
    this.scrollHeight = 0;
    this.clientHeight = 0;
    const element = this;
    this.classList = {
      add: (name) => {
        element.className = [...new Set([...element.className.split(" ").filter(Boolean), name])].join(" ");
      },
      contains: (name) => element.className.split(" ").includes(name),
      remove: (name) => {
        element.className = element.className
          .split(" ")
          .filter((have) => have && have !== name)
          .join(" ");
      },
    };
  }

  set innerHTML(_markup) {
    throw new Error("innerHTML: text must go in as text");
  }

  get children() {
    return this.childNodes.filter((node) => node instanceof FakeElement);
  }

  get firstElementChild() {
    return this.children[0] ?? null;
  }

  get lastElementChild() {
    return this.children.at(-1) ?? null;
  }

  get previousElementSibling() {
    const siblings = this.parent?.children ?? [];
    return siblings[siblings.indexOf(this) - 1] ?? null;
  }

  get nextElementSibling() {
    const siblings = this.parent?.children ?? [];
    const index = siblings.indexOf(this);
    return index < 0 ? null : siblings[index + 1] ?? null;
  }

  get textContent() {
    return this.childNodes.map((node) => (typeof node === "string" ? node : node.textContent)).join("");
  }

  set textContent(value) {
    this.replaceChildren(String(value ?? ""));
  }

  _adopt(nodes) {
    for (const node of nodes) if (node instanceof FakeElement) node.remove();
    for (const node of nodes) if (node instanceof FakeElement) node.parent = this;
    return nodes.map((node) => (node instanceof FakeElement ? node : String(node)));
  }

  append(...nodes) {
    this.childNodes.push(...this._adopt(nodes));
  }

  prepend(...nodes) {
    this.childNodes.unshift(...this._adopt(nodes));
  }

  replaceChildren(...nodes) {
    for (const node of this.children) node.parent = null;
    this.childNodes = [];
    this.append(...nodes);
  }

  before(...nodes) {
    const parent = this.parent;
    const adopted = parent._adopt(nodes);
    parent.childNodes.splice(parent.childNodes.indexOf(this), 0, ...adopted);
  }

  after(...nodes) {
    const parent = this.parent;
    const adopted = parent._adopt(nodes);
    parent.childNodes.splice(parent.childNodes.indexOf(this) + 1, 0, ...adopted);
  }

  remove() {
    if (!this.parent) return;
    this.parent.childNodes.splice(this.parent.childNodes.indexOf(this), 1);
    this.parent = null;
  }

  setAttribute(name, value) {
    this.attributes.set(name, String(value));
  }

  getAttribute(name) {
    return this.attributes.get(name) ?? null;
  }

  removeAttribute(name) {
    this.attributes.delete(name);
  }

  focus() {}
}

export function element(tagName = "div") {
  return new FakeElement(tagName);
}

/** A document that makes FakeElements (install it as globalThis.document). */
export function fakeDom() {
  return { createElement: (tagName) => new FakeElement(tagName), cookie: "", querySelector: () => null };
}

/** The elements under `root` (depth first) with class `name`. */
export function byClass(root, name) {
  const found = [];
  for (const child of root.children) {
    if (child.classList.contains(name)) found.push(child);
    found.push(...byClass(child, name));
  }
  return found;
}
