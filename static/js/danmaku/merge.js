// Merging repeats (the viewer's `merge_repeats` setting): the same comment, or the same once
// normalised, posted again within MERGE_WINDOW_MS of the first is not drawn again; the first
// shows "×N" instead. The rule (docs/RENDERER.md):
//   1. Unicode NFKC (full-width letters and digits become ASCII, compatibility forms unify),
//      then lower case;
//   2. white space removed;
//   3. a run of three or more of the same unit (one to four characters) becomes two of it:
//      "23333" and "2333" are "233", "666666" is "66", "哈哈哈哈" is "哈哈", "hahaha" is "haha".
// So "233" and "2333333" merge, "6" and "666" do not (a run of two stays what it is).

export const MERGE_WINDOW_MS = 5000;
// Groups older than the window are forgotten once this many are kept.
const SWEEP_AT = 500;
const RUN = /(.{1,4}?)\1{2,}/gsu;
const SPACE = /\s+/gu;

/** The key two comments must share to merge. */
export function normalizeRepeat(text) {
  return String(text ?? "")
    .normalize("NFKC")
    .toLowerCase()
    .replace(SPACE, "")
    .replace(RUN, "$1$1");
}

/** The badge drawn after a merged comment: ×2 … ×99, then ×99+. */
export function repeatBadge(count) {
  return count > 99 ? "×99+" : `×${count}`;
}

/**
 * Groups comments by normalised text. A comment is a repeat when a comment with the same key
 * was seen at most `windowMs` before it (by due time: video position, or arrival when live) and
 * that first comment can still take it (`canTake`: it is waiting or on screen with its badge
 * slot). Otherwise it starts a group of its own.
 */
export class RepeatMerger {
  constructor(windowMs = MERGE_WINDOW_MS) {
    this.windowMs = windowMs;
    this.groups = new Map(); // key -> {leader, due}
  }

  reset() {
    this.groups.clear();
  }

  /** The group's first comment if `item` (due at `due`) repeats it, else null (it now leads). */
  leaderFor(item, due, canTake) {
    const key = normalizeRepeat(item.text);
    const group = this.groups.get(key);
    if (group && group.leader !== item && due >= group.due && due - group.due <= this.windowMs) {
      if (canTake(group.leader)) return group.leader;
    }
    if (this.groups.size >= SWEEP_AT) this._sweep(due);
    this.groups.set(key, { leader: item, due });
    return null;
  }

  _sweep(now) {
    for (const [key, group] of this.groups) {
      if (now - group.due > this.windowMs || now < group.due) this.groups.delete(key);
    }
  }
}
