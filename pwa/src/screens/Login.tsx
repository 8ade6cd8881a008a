import { useState } from "preact/hooks";
import { ApiError, NetworkError } from "../api";
import { LANGS, lang, setLang, t } from "../i18n";
import { login, OtherUserPending } from "../session";

export function Login() {
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: Event) => {
    event.preventDefault();
    setBusy(true);
    setError(null);
    try {
      await login(email.trim(), password);
    } catch (err) {
      if (err instanceof OtherUserPending) setError(t("login.other_user_pending"));
      else if (err instanceof NetworkError) setError(t("login.offline"));
      else if (err instanceof ApiError && err.code === "auth.too_many_attempts") setError(t("login.too_many"));
      else if (err instanceof ApiError && err.status === 401) setError(t("login.wrong"));
      else if (err instanceof ApiError) setError(err.message);
      else setError(String(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="login card" onSubmit={submit}>
      <h1>{t("app.name")}</h1>
      <p class="muted">{t("login.intro")}</p>
      <label for="email">{t("login.email")}</label>
      <input id="email" name="email" type="email" autoComplete="username" required value={email}
        onInput={(e) => setEmail(e.currentTarget.value)} />
      <label for="password">{t("login.password")}</label>
      <input id="password" name="password" type="password" autoComplete="current-password" required value={password}
        onInput={(e) => setPassword(e.currentTarget.value)} />
      {error && <p class="error-text" role="alert" data-testid="login-error">{error}</p>}
      <div class="actions">
        <button class="primary" type="submit" disabled={busy} data-testid="login-submit">
          {busy ? t("login.signing_in") : t("login.submit")}
        </button>
      </div>
      <div class="segmented" style="margin-top:16px">
        {LANGS.map((l) => (
          <button type="button" class={l === lang() ? "on" : ""} onClick={() => setLang(l)}>
            {l === "en" ? "English" : "简体中文"}
          </button>
        ))}
      </div>
    </form>
  );
}
