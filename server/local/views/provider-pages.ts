/**
 * HTML for the local identity provider's pages, in Sealdrop's look: sign in,
 * sign-out confirmation, signed out, and errors. Pure functions from values
 * to HTML strings; every value is escaped. No inline script or style: the
 * look comes from `provider.css`, served same-origin at
 * {@link PROVIDER_CSS_PATH}; the sign-out page's one script is a file too.
 */

/** Where the launcher serves `provider.css` (under the provider's mount). */
export const PROVIDER_CSS_PATH = '/oidc/ui/provider.css';

/**
 * Where the launcher serves the sign-out page's one script. Sealdrop itself
 * asks "Sign out?" once, before it sends the person here, so this page
 * confirms by itself; without script it still shows its own buttons.
 */
export const PROVIDER_SIGN_OUT_SCRIPT_PATH = '/oidc/ui/sign-out.js';

/** The script at {@link PROVIDER_SIGN_OUT_SCRIPT_PATH}: presses the page's own "Sign out" button. */
export const PROVIDER_SIGN_OUT_SCRIPT = `document.querySelector('button[name="logout"][value="yes"]')?.click();\n`;

/** The banner every provider page shows, so nobody mistakes it for Entra ID. */
export const LOCAL_STAND_IN_NOTE = 'Local stand-in for Microsoft Entra ID — any name and e-mail works.';

/** Escapes text for HTML element content and double-quoted attributes. */
export function escapeHtml(value: string): string {
  return value
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

function layout(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(title)} · Sealdrop (local)</title>
<link rel="icon" href="/icon.svg" type="image/svg+xml">
<link rel="stylesheet" href="${PROVIDER_CSS_PATH}">
</head>
<body>
<main class="card">
<p class="brand"><img src="/icon.svg" alt=""> Sealdrop</p>
<p class="note" role="note">${escapeHtml(LOCAL_STAND_IN_NOTE)}</p>
${body}
</main>
</body>
</html>
`;
}

/** What the sign-in page needs to render. */
export interface SignInPageInput {
  /** Where the form posts (the provider's interaction endpoint). */
  action: string;
  /** Where "Cancel" posts. */
  abortAction: string;
  /** Shown above the form after a rejected submission. */
  error?: string;
  /** Values to keep in the fields after a rejected submission. */
  name?: string;
  email?: string;
}

/** The development sign-in page: labelled Name and E-mail fields, Sign in, Cancel. */
export function signInPage(input: SignInPageInput): string {
  const error =
    input.error === undefined
      ? ''
      : `<p class="error" role="alert" id="sign-in-error">${escapeHtml(input.error)}</p>`;
  const described = input.error === undefined ? '' : ' aria-describedby="sign-in-error"';
  return layout(
    'Sign in',
    `<h1>Sign in</h1>
<p class="lead">Type any name and e-mail. The same e-mail is the same user, in any browser.</p>
${error}<form method="post" action="${escapeHtml(input.action)}"${described}>
<label for="name">Name</label>
<input id="name" name="name" type="text" autocomplete="name" required maxlength="100" autofocus value="${escapeHtml(input.name ?? '')}">
<label for="email">E-mail</label>
<input id="email" name="email" type="email" autocomplete="email" required maxlength="254" value="${escapeHtml(input.email ?? '')}">
<button type="submit" class="primary">Sign in</button>
</form>
<form method="post" action="${escapeHtml(input.abortAction)}" class="actions-aside">
<button type="submit" class="link">Cancel and go back</button>
</form>`,
  );
}

/**
 * The sign-out confirmation page. `form` is the provider's own hidden form
 * (it carries the anti-forgery token); our buttons submit it by `form=` id.
 */
export function signOutPage(form: string, formId: string): string {
  const id = escapeHtml(formId);
  return layout(
    'Sign out',
    `<h1>Sign out of Sealdrop?</h1>
<p class="lead">You will need to sign in again to see your files.</p>
${form}
<button type="submit" class="primary" form="${id}" name="logout" value="yes" autofocus>Sign out</button>
<button type="submit" class="secondary" form="${id}">Stay signed in</button>
<script src="${PROVIDER_SIGN_OUT_SCRIPT_PATH}" defer></script>`,
  );
}

/** Shown after a sign-out that named no place to return to. */
export function signedOutPage(appUrl: string): string {
  return layout(
    'Signed out',
    `<h1>You are signed out</h1>
<p class="lead"><a href="${escapeHtml(appUrl)}">Back to Sealdrop</a></p>`,
  );
}

/** The provider's error page: what went wrong in plain words, and a way back. */
export function errorPage(input: { title: string; message: string; appUrl: string }): string {
  return layout(
    input.title,
    `<h1>${escapeHtml(input.title)}</h1>
<p class="error" role="alert">${escapeHtml(input.message)}</p>
<p class="lead"><a href="${escapeHtml(input.appUrl)}">Back to Sealdrop</a></p>`,
  );
}
