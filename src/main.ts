// Before anything that parses: zod must not probe `new Function` under our CSP.
import './contract/zod-jitless.ts';
import { mount } from 'svelte';
import App from './ui/App.svelte';
import './ui/base/global.css';

const target = document.getElementById('app');
if (!target) throw new Error('Sealdrop: #app element missing from index.html');
// A link share (`/s/<id>#…`) is a public page: loaded on its own, it never loads the sign-in code (MSAL).
if (location.pathname.startsWith('/s/')) {
  void import('./ui/share/SharePage.svelte').then(({ default: SharePage }) => mount(SharePage, { target }));
} else if (location.pathname.startsWith('/r/')) {
  // A file request (`/r/<id>#…`): public too, and never loads MSAL either.
  void import('./ui/requests/RequestPage.svelte').then(({ default: RequestPage }) => mount(RequestPage, { target }));
} else {
  mount(App, { target });
}
