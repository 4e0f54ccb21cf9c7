import type { TemplateInput } from './template-store';

/** A few realistic pt_BR templates for the runnable simulator: one usable, one pending, one paused. */
export const seedTemplates: TemplateInput[] = [
  {
    id: '1209384756102938',
    name: 'lembrete_pagamento',
    language: 'pt_BR',
    status: 'APPROVED',
    category: 'UTILITY',
    quality_score: { score: 'GREEN' },
    components: [
      { type: 'HEADER', format: 'TEXT', text: 'Lembrete de pagamento' },
      {
        type: 'BODY',
        text: 'Olá, {{1}}! Sua fatura vence em {{2}}. Se já pagou, desconsidere esta mensagem.',
        example: { body_text: [['Maria', '10/08/2025']] },
      },
      { type: 'FOOTER', text: 'Responda SAIR para não receber mais mensagens.' },
    ],
  },
  {
    id: '1209384756102939',
    name: 'oferta_renovacao',
    language: 'pt_BR',
    status: 'PENDING',
    category: 'MARKETING',
    components: [
      {
        type: 'BODY',
        text: '{{1}}, renove seu plano até {{2}} e ganhe {{3}} de desconto.',
        example: { body_text: [['João', '31/08', '20%']] },
      },
    ],
  },
  {
    id: '1209384756102940',
    name: 'pesquisa_satisfacao',
    language: 'pt_BR',
    status: 'PAUSED',
    category: 'MARKETING',
    quality_score: { score: 'RED' },
    components: [{ type: 'BODY', text: 'Oi, {{1}}! Como foi seu atendimento hoje? Responda com uma nota de 1 a 5.' }],
  },
];
