// Before anything that parses: zod must not probe `new Function` under our CSP.
import './contract/zod-jitless.ts';
import { mount } from 'svelte';
import App from './ui/App.svelte';
import './ui/base/global.css';

const target = document.getElementById('app');
if (!target) throw new Error('Sealdrop: #app element missing from index.html');
mount(App, { target });
