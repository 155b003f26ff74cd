/** The sign-in form, shown over the page whenever the server asks for credentials. */
import type { Api } from "./api";
import { h } from "./dom";
import { t } from "./i18n";

/** Show the form and resolve once the user has signed in. */
export function askLogin(api: Api, expired: boolean): Promise<void> {
  return new Promise((resolve) => {
    const error = h("p", { class: "login-error", role: "alert" }, expired ? t("login.expired") : "");
    const username = h("input", { name: "username", autocomplete: "username", required: true, placeholder: t("login.username") });
    const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true, placeholder: t("login.password") });
    const form = h(
      "form",
      { class: "login-card" },
      h("h1", {}, t("app.title")),
      h("h2", {}, t("login.title")),
      h("label", {}, t("login.username"), username),
      h("label", {}, t("login.password"), password),
      error,
      h("button", { type: "submit", class: "primary" }, t("login.submit")),
    );
    const overlay = h("div", { class: "login-overlay" }, form);
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      api.login(username.value, password.value).then(
        () => {
          overlay.remove();
          resolve();
        },
        (err: unknown) => {
          const status = (err as { status?: number }).status;
          error.textContent = status === 401 || status === 400 ? t("login.failed") : String((err as Error).message);
        },
      );
    });
    document.body.appendChild(overlay);
    username.focus();
  });
}
