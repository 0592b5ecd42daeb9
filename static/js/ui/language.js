// The language picker in every page's header: a form the server answers (chat/web/language.py),
// which keeps the choice in a cookie and on the account. With scripts, a choice sends it at once
// and the form's own button is not needed.

/** Wire the header's `<form data-language-picker>`: changing its select submits it. */
export function mountLanguagePicker(form) {
  const select = form.querySelector("select");
  const button = form.querySelector("[data-language-submit]");
  if (!select) {
    return;
  }
  if (button) {
    button.hidden = true;
  }
  select.addEventListener("change", () => {
    form.requestSubmit();
  });
}
