// The room's video page: copy buttons (the overlay's address).
import { wireCopyButtons } from "../ui/copy.js";

wireCopyButtons(document, navigator.clipboard ?? { writeText: () => Promise.reject(new Error("no clipboard")) });
