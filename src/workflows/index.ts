// Every workflow the worker runs. Workflow code imports only domain/ and the Temporal workflow API.
// A change of shape goes behind patched() and keeps the replay tests green (README: "Versioned workflows").
export { exportWorkflow } from './exports/export-workflow';
export { importWorkflow } from './imports/import-workflow';
export { broadcastSendWorkflow } from './broadcast/send-workflow';
export { whatsappWebhookApplierWorkflow } from './broadcast/webhook-applier';
export { dialerCampaignWorkflow } from './dialer/dialer-campaign-workflow';
export { dialerCycleWorkflow } from './dialer/dialer-cycle-workflow';
export { mercadoLivreAccountWorkflow } from './mercadolivre/account-workflow';
export { mercadoLivreNotificationsWorkflow } from './mercadolivre/notifications-workflow';
export { reportRetentionWorkflow } from './exports/report-retention';
