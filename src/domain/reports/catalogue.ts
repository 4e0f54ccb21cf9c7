import type { CellType } from './cells';

/**
 * The seed's *Glossário Relatórios*, one entry per report: its id, its Portuguese name as the
 * manual writes it, what it contains, the filters it takes and its columns. The API lists it, the
 * run endpoint validates against it and every writer (CSV, XLSX, the direct CSV routes) reads it.
 */

export type FilterType = 'datetime' | 'uuid' | 'text' | 'phone';

export interface ReportFilter {
  name: string;
  type: FilterType;
  description: string;
  required?: boolean;
  values?: readonly string[];
}

export interface ReportColumn {
  key: string;
  /** The CSV/XLSX header (Portuguese). */
  header: string;
  type: CellType;
  description?: string;
}

export interface ReportDefinition {
  id: string;
  name: string;
  /** Where the manual puts it (`Exportações`, `Histórico Importação`…). */
  section: string;
  description: string;
  filters: readonly ReportFilter[];
  /** At least one of these filters must be given. */
  oneOf?: readonly string[];
  columns: readonly ReportColumn[];
  /** A base for the file name (no extension). */
  fileName: string;
}

const from: ReportFilter = { name: 'from', type: 'datetime', description: 'Início do período (inclusivo), ISO 8601' };
const to: ReportFilter = { name: 'to', type: 'datetime', description: 'Fim do período (exclusivo), ISO 8601' };
const period = [from, to] as const;

const col = (key: string, type: CellType, description?: string): ReportColumn => ({ key, header: key, type, ...(description ? { description } : {}) });

/** Also the Histórico Importação CSV of GET /v1/imports/history.csv (all kinds). */
export const IMPORT_HISTORY_COLUMNS: readonly ReportColumn[] = [
  col('importacao', 'text'),
  col('grupo', 'text'),
  col('tipo', 'text'),
  col('arquivo', 'text'),
  col('usuario', 'text'),
  col('inicio', 'datetime'),
  col('fim', 'datetime'),
  col('duracao_s', 'seconds'),
  col('situacao', 'text'),
  col('linhas_lidas', 'integer'),
  col('importadas', 'integer'),
  col('rejeitadas', 'integer'),
  col('erro', 'text'),
];

export const REPORTS: readonly ReportDefinition[] = [
  {
    id: 'interactions',
    name: 'Rastreio de Interações',
    section: 'Glossário Relatórios',
    description:
      'Cada contato com uma pessoa em qualquer canal: ' +
      'tentativas de ligação, mensagens WhatsApp (com cada status e sua hora), respostas e opt-outs, perguntas e mensagens do Mercado Livre.',
    filters: [
      ...period,
      { name: 'channel', type: 'text', values: ['voice', 'whatsapp', 'mercadolivre'], description: 'Canal' },
      { name: 'phone', type: 'phone', description: 'Telefone (com ou sem 55 e nono dígito)' },
      { name: 'companyContactId', type: 'uuid', description: 'Contato Omni' },
      { name: 'campaignId', type: 'uuid', description: 'Campanha (Discador ou Broadcast)' },
      { name: 'agentId', type: 'text', description: 'Agente que atendeu' },
      { name: 'outcome', type: 'text', description: 'Resultado (answered, read, failed, opt_out…)' },
    ],
    columns: [
      col('interacao', 'text'),
      col('inicio', 'datetime'),
      col('fim', 'datetime'),
      col('duracao_s', 'seconds'),
      col('canal', 'text'),
      col('direcao', 'text'),
      col('tipo', 'text'),
      col('telefone', 'text'),
      col('contato_omni_id', 'text'),
      col('contato_id', 'text'),
      col('comprador_ml', 'text'),
      col('campanha', 'text'),
      col('campanha_id', 'text'),
      col('envio_id', 'text'),
      col('conta_ml_id', 'text'),
      col('resultado', 'text'),
      col('atendido_por_tipo', 'text'),
      col('atendido_por', 'text'),
      col('eventos', 'events'),
      col('detalhes', 'text'),
      col('chave_origem', 'text'),
    ],
    fileName: 'rastreio-interacoes',
  },
  {
    id: 'ivr',
    name: 'Relatório IVR',
    section: 'Glossário Relatórios',
    description:
      'Uma linha por ligação que entrou num fluxo de URA: quando, campanha, contato, telefone, fluxo e versão, caminho (nós em ordem), ' +
      'teclas digitadas, nó final e como saiu dele, disposição, se pediu descadastro, para onde foi transferida e o tempo na URA.',
    filters: [
      ...period,
      { name: 'campaignId', type: 'uuid', description: 'Campanha do Discador' },
      { name: 'flowId', type: 'uuid', description: 'Fluxo de URA' },
      { name: 'phone', type: 'phone', description: 'Telefone' },
    ],
    columns: [
      col('inicio', 'datetime', 'entrada no fluxo'),
      col('campanha', 'text'),
      col('campanha_id', 'text'),
      col('contato_id', 'text'),
      col('contato', 'text'),
      col('telefone', 'text'),
      col('fluxo', 'text'),
      col('fluxo_id', 'text'),
      col('versao_fluxo', 'integer'),
      col('caminho', 'text', 'nós em ordem, separados por >'),
      col('teclas', 'text'),
      col('no_final', 'text'),
      col('saida', 'text', 'como saiu do nó final: next, key, timeout, invalid, hangup, ended, transferred, no_agent, max_visits; em_andamento'),
      col('disposicao', 'text'),
      col('descadastrado', 'text', 'sim: pediu para não receber ligações (opt-out de voz)'),
      col('transferido_para', 'text', 'agente: nome de quem atendeu, ou dialplan:contexto/ramal/prioridade'),
      col('tempo_ura_s', 'seconds'),
      col('chamada', 'text', 'chave da tentativa (id do canal ARI)'),
    ],
    fileName: 'relatorio-ivr',
  },
  {
    id: 'users',
    name: 'Relatório de Usuários',
    section: 'Exportações',
    description:
      'Usuários (nome, e-mail, papel, situação, criação, última atividade, chaves ativas) e agentes com seus números no período: ' +
      'tempo logado, por estado e por pausa, chamadas atendidas, tempo de conversa, TMA, abandonadas enquanto logado. Os números de ' +
      'agente vêm dos eventos de estado (tempo logado, por estado, por pausa) e das chamadas entregues a cada agente (atendidas, conversa = tempo em ' +
      'chamada, TMA = conversa + pós-atendimento por chamada); abandonadas enquanto logado = chamadas das campanhas do agente que terminaram ' +
      'abandonadas enquanto ele não estava deslogado.',
    filters: [...period],
    columns: [
      col('tipo', 'text', 'usuario | agente'),
      col('id', 'text'),
      col('nome', 'text'),
      col('email', 'text'),
      col('papel', 'text'),
      col('situacao', 'text', 'ativo: tem chave ativa'),
      col('criado_em', 'datetime'),
      col('ultima_atividade', 'datetime'),
      col('chaves_ativas', 'integer'),
      col('tempo_logado_s', 'seconds'),
      col('tempo_por_estado', 'text'),
      col('tempo_por_pausa', 'text'),
      col('chamadas_atendidas', 'integer'),
      col('tempo_conversa_s', 'seconds'),
      col('tma_s', 'seconds', 'tempo médio de atendimento'),
      col('abandonadas_logado', 'integer'),
    ],
    fileName: 'relatorio-usuarios',
  },
  {
    id: 'calls',
    name: 'Relatório de Chamadas',
    section: 'Exportações',
    description:
      'Uma linha por tentativa de ligação do Discador: campanha, contato, telefone, resultado, causa Q.850, tempos de toque e conversa; o agente, a espera por ele e a conversa com ele; se foi abandonada; fluxo de URA, disposição, nó final e teclas.',
    filters: [...period, { name: 'campaignId', type: 'uuid', description: 'Campanha do Discador' }],
    columns: [
      col('quando', 'datetime'),
      col('campanha', 'text'),
      col('campanha_id', 'text'),
      col('contato_id', 'text'),
      col('contato', 'text'),
      col('telefone', 'text'),
      col('tentativa', 'integer'),
      col('discagem', 'integer'),
      col('resultado', 'text'),
      col('causa_q850', 'text'),
      col('causa_texto', 'text'),
      col('toque_s', 'seconds'),
      col('conversa_s', 'seconds'),
      col('versao_estrategia', 'integer'),
      col('chave', 'text'),
      col('ciclo', 'integer'),
      col('amd', 'text'),
      col('desfecho_desconhecido', 'text', 'sim: o fim da chamada nunca foi visto nem registrado (resultado unknown)'),
      col('fim_nao_visto', 'text', 'sim: o fim não foi visto pelo worker que fez a chamada (assumida após um reinício)'),
      col('agente', 'text', 'o agente a quem o cliente foi conectado (nome, ou e-mail)'),
      col('espera_agente_s', 'seconds', 'quanto o cliente que atendeu esperou por um agente'),
      col('conversa_agente_s', 'seconds', 'conversa com o agente, da ponte ao fim'),
      col('abandonada', 'text', 'sim: atendeu e não encontrou agente livre a tempo (ouviu a mensagem de abandono)'),
      col('fluxo', 'text', 'Fluxo de URA que a chamada atendida percorreu (vazio: sem URA)'),
      col('versao_fluxo', 'integer', 'Versão do fluxo de URA que a chamada rodou'),
      col('disposicao', 'text', 'Disposição registrada pela URA (ex.: boleto_enviado)'),
      col('no_final', 'text', 'Último nó da URA em que a chamada esteve'),
      col('teclas', 'text', 'Teclas pressionadas na URA, em ordem'),
    ],
    fileName: 'relatorio-chamadas',
  },
  {
    id: 'activity',
    name: 'Relatório de Atividade',
    section: 'Exportações',
    description: 'O registro de auditoria: quem (usuário, chave de API, operação ou sistema) fez o quê, quando e em quê.',
    filters: [
      { ...from, required: true },
      { ...to, required: true },
    ],
    columns: [
      col('quando', 'datetime'),
      col('usuario', 'text'),
      col('chave_api', 'text'),
      col('acao', 'text'),
      col('alvo', 'text'),
      col('alvo_id', 'text'),
      col('resumo', 'text'),
      col('request_id', 'text'),
    ],
    fileName: 'relatorio-atividade',
  },
  {
    id: 'broadcast-consolidated',
    name: 'Relatório de Broadcast HSM — Consolidado',
    section: 'Exportações › Relatório de Broadcast HSM',
    description: 'Por dia (horário de São Paulo), campanha, envio e template: totais e taxas de entrega e leitura.',
    filters: [...period, { name: 'campaignId', type: 'uuid', description: 'Campanha de Broadcast' }, { name: 'sendId', type: 'uuid', description: 'Envio' }],
    columns: [
      col('data', 'date'),
      col('campanha', 'text'),
      col('envio', 'text'),
      col('template', 'text'),
      col('idioma', 'text'),
      col('total', 'integer'),
      col('enviadas', 'integer'),
      col('entregues', 'integer'),
      col('lidas', 'integer'),
      col('falhas', 'integer'),
      col('ignoradas', 'integer'),
      col('desconhecidas', 'integer'),
      col('pendentes', 'integer'),
      col('taxa_entrega_pct', 'percent'),
      col('taxa_leitura_pct', 'percent'),
    ],
    fileName: 'broadcast-hsm-consolidado',
  },
  {
    id: 'broadcast-detailed',
    name: 'Relatório de Broadcast HSM — Detalhado',
    section: 'Exportações › Relatório de Broadcast HSM',
    description: 'Uma linha por mensagem: contato, telefone, template, estado, motivo, hora de cada status, erro.',
    filters: [...period, { name: 'campaignId', type: 'uuid', description: 'Campanha de Broadcast' }, { name: 'sendId', type: 'uuid', description: 'Envio' }],
    columns: [
      col('contato', 'text'),
      col('telefone', 'text'),
      col('wa_id', 'text'),
      col('template', 'text'),
      col('idioma', 'text'),
      col('estado', 'text'),
      col('motivo_ignorada', 'text'),
      col('variaveis_sem_valor', 'text', 'Placeholders sem valor para o contato (ignorado por missing_variable, ou enviado com o texto padrão)'),
      col('tentativas', 'integer'),
      col('aceita_em', 'datetime'),
      col('enviada_em', 'datetime'),
      col('entregue_em', 'datetime'),
      col('lida_em', 'datetime'),
      col('falhou_em', 'datetime'),
      col('desconhecida_em', 'datetime'),
      col('codigo_erro', 'text'),
      col('erro', 'text'),
      col('wamid', 'text'),
    ],
    fileName: 'broadcast-hsm-detalhado',
  },
  ...(['broadcast', 'dialer'] as const).map(
    (kind): ReportDefinition => ({
      id: `import-history-${kind}`,
      name: kind === 'broadcast' ? 'Relatório Broadcast Grupo de Contatos' : 'Relatório Discador Grupo de Contatos',
      section: 'Exportações › Histórico Importação',
      description:
        `Cada importação de grupos de contatos ${kind === 'broadcast' ? 'de Broadcast' : 'do Discador'}: ` +
        `arquivo, quem importou, início, fim, linhas lidas, importadas e rejeitadas.`,
      filters: [...period],
      columns: IMPORT_HISTORY_COLUMNS,
      fileName: `historico-importacao-${kind === 'broadcast' ? 'broadcast' : 'discador'}`,
    }),
  ),
  {
    id: 'dialer-campaigns',
    name: 'Relatório Discador',
    section: 'Exportações › Histórico Importação',
    description:
      'Uma linha por campanha do Discador com seus números no período: tentativas por resultado, bloqueados, taxa de atendimento, duração, ' +
      'chamadas curtas (6 s ou menos: atendidas com conversa ≤ 6 s, ou não atendidas encerradas em ≤ 6 s). Sem filtro de campanha, ' +
      'segue uma linha por dia (America/Sao_Paulo) da empresa inteira (status `dia`): chamadas feitas e a parcela de curtas (Anatel: no máximo 85% acima de 100.000 por dia).',
    filters: [...period, { name: 'campaignId', type: 'uuid', description: 'Campanha do Discador' }],
    columns: [
      col('campanha', 'text'),
      col('campanha_id', 'text'),
      col('status', 'text'),
      col('contatos', 'integer'),
      col('tentativas', 'integer'),
      col('atendidas', 'integer'),
      col('ocupado', 'integer'),
      col('nao_atendeu', 'integer'),
      col('rejeitadas', 'integer'),
      col('numero_invalido', 'integer'),
      col('falha_rede', 'integer'),
      col('caixa_postal', 'integer'),
      col('bloqueados', 'integer'),
      col('taxa_atendimento_pct', 'percent'),
      col('primeira_chamada', 'datetime'),
      col('ultima_chamada', 'datetime'),
      col('duracao_s', 'integer'),
      col('desconhecido', 'integer', 'tentativas de resultado desconhecido'),
      col('curtas_6s', 'integer', 'chamadas de 6 s ou menos'),
      col('curtas_6s_pct', 'percent', 'curtas ÷ tentativas'),
      col('abandonadas', 'integer', 'atendidas que não encontraram agente livre a tempo (ouviram a mensagem de abandono)'),
    ],
    fileName: 'relatorio-discador',
  },
];

export const reportById = (id: string) => REPORTS.find((r) => r.id === id);
