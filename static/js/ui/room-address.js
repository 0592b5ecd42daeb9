// The room form suggests the address from the title as it is typed ("Friday Movie Night" ->
// "friday-movie-night"), until the address is edited by hand.

export const ADDRESS_MAX = 50; // the server's limit (chat/models.py, ROOM_SLUG_PATTERN)

/** An address for `title`: lowercase ASCII letters, digits and hyphens; "" when none remain. */
export function suggestAddress(title) {
  const plain = String(title)
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "") // accents off: "Café" -> "Cafe"
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return plain.slice(0, ADDRESS_MAX).replace(/-+$/, "");
}

/** Keep `address` following `title` until someone types in `address` itself. */
export function wireAddressSuggestion(title, address) {
  let suggested = address.value === "" || address.value === suggestAddress(title.value);
  title.addEventListener("input", () => {
    if (suggested) address.value = suggestAddress(title.value);
  });
  address.addEventListener("input", () => {
    suggested = address.value === "" || address.value === suggestAddress(title.value);
  });
}
