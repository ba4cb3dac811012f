/**
 * The page MSAL 5 returns to after sign-in and sign-out: it only hands the
 * response back to the window that started the flow.
 */
import { broadcastResponseToMainFrame } from '@azure/msal-browser/redirect-bridge';

void broadcastResponseToMainFrame();
