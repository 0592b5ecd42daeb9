// The room form (home page and "Create a room"): the address follows the title.
import { wireAddressSuggestion } from "../ui/room-address.js";

for (const form of document.querySelectorAll("[data-room-form]")) {
  const title = form.querySelector("[name=title]");
  const address = form.querySelector("[name=slug]");
  if (title && address) wireAddressSuggestion(title, address);
}
