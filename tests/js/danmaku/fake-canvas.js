// A canvas without pixels for the renderer's unit tests: text is measured as 0.6 em a character
// and drawing is recorded, not done.

class FakeContext {
  constructor() {
    this.font = "10px sans-serif";
    this.globalAlpha = 1;
    this.transform = [1, 0, 0, 1, 0, 0];
    this.drawn = []; // {x, y} of each sprite copied since the last clear
  }

  measureText(text) {
    const px = Number(/(\d+)px/.exec(this.font)[1]);
    const width = [...text].length * px * 0.6;
    return { width, actualBoundingBoxLeft: 0, actualBoundingBoxRight: width };
  }

  clearRect() {
    this.drawn = [];
  }

  drawImage(_sprite, x, y) {
    this.drawn.push({ x, y, alpha: this.globalAlpha, transform: this.transform });
  }

  setTransform(a, b, c, d, e, f) {
    this.transform = [a, b, c, d, e, f];
  }

  rotate(angle) {
    this.rotation = angle;
  }

  scale() {}
  fillRect() {}
  strokeText() {}
  fillText() {}
  strokeRect() {}
  save() {}
  restore() {}
  beginPath() {}
  rect() {}
  clip() {}
}

export class FakeCanvas {
  constructor(width = 0, height = 0) {
    this.width = width;
    this.height = height;
    this.clientWidth = width;
    this.clientHeight = height;
    this.context = new FakeContext();
  }

  getContext() {
    return this.context;
  }
}
