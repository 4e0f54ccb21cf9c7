/** The golden bytes of report-csv-golden.test.ts, one array element per CRLF-ended line (a quoted cell may hold a bare \n). */
export const GOLDEN: Record<'calls' | 'interactions', Record<'pt-BR' | 'iso', string[]>> = {
  calls: {
    'pt-BR': [
      '\uFEFFquando;campanha;campanha_id;contato_id;contato;telefone;tentativa;discagem;resultado;causa_q850;causa_texto;toque_s;conversa_s;versao_estrategia;chave;ciclo;amd;desfecho_desconhecido;fim_nao_visto;agente;espera_agente_s;conversa_agente_s;abandonada;fluxo;versao_fluxo;disposicao;no_final;teclas',
      '02/12/2026 14:05:00;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;1;Maria da Silva;5511987654321;1;1;answered;16;Normal Clearing;1,2;1.234,6;1;dc:g:1;1;HUMAN;nao;nao;"Ana ""Agente""; 1";0,3;1.234,4;nao;"\'=URA; ""Cobrança""";2;boleto_enviado;fim;52',
      '02/12/2026 23:59:59;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;2;\'=SOMA(A1:A9);5521912345678;1.234;1;busy;17;\'-User busy;1,3;;3;dc:g:2;2;;nao;sim;;;;nao;;;;;',
      '03/12/2026 00:00:00;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;3;"José\nSegunda linha";\'+5548998288774;2;2;em_andamento;;;0,1;0,0;1;dc:g:3;1;;;;;;;;;;;;',
      '04/12/2026 09:00:00;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;1;Maria da Silva;5511987654321;3;3;unknown;;"tab\tand ""quotes""";999,9;1,1;1;"dc:g;4";1;MACHINE;sim;nao;;;;nao;"\'=URA; ""Cobrança""";1;;\'-menu;',
      '',
    ],
    iso: [
      '\uFEFFquando;campanha;campanha_id;contato_id;contato;telefone;tentativa;discagem;resultado;causa_q850;causa_texto;toque_s;conversa_s;versao_estrategia;chave;ciclo;amd;desfecho_desconhecido;fim_nao_visto;agente;espera_agente_s;conversa_agente_s;abandonada;fluxo;versao_fluxo;disposicao;no_final;teclas',
      '2026-12-02T17:05:00.123Z;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;1;Maria da Silva;5511987654321;1;1;answered;16;Normal Clearing;1.2;1234.6;1;dc:g:1;1;HUMAN;nao;nao;"Ana ""Agente""; 1";0.3;1234.4;nao;"\'=URA; ""Cobrança""";2;boleto_enviado;fim;52',
      '2026-12-03T02:59:59.999Z;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;2;\'=SOMA(A1:A9);5521912345678;1234;1;busy;17;\'-User busy;1.3;;3;dc:g:2;2;;nao;sim;;;;nao;;;;;',
      '2026-12-03T03:00:00.000Z;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;3;"José\nSegunda linha";\'+5548998288774;2;2;em_andamento;;;0.1;0.0;1;dc:g:3;1;;;;;;;;;;;;',
      '2026-12-04T12:00:00.500Z;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;1;Maria da Silva;5511987654321;3;3;unknown;;"tab\tand ""quotes""";999.9;1.1;1;"dc:g;4";1;MACHINE;sim;nao;;;;nao;"\'=URA; ""Cobrança""";1;;\'-menu;',
      '',
    ],
  },
  interactions: {
    'pt-BR': [
      '\uFEFFinteracao;inicio;fim;duracao_s;canal;direcao;tipo;telefone;contato_omni_id;contato_id;comprador_ml;campanha;campanha_id;envio_id;conta_ml_id;resultado;atendido_por_tipo;atendido_por;eventos;detalhes;chave_origem',
      '1;02/12/2026 14:05:00;02/12/2026 14:05:01;1,2;voice;outbound;call;5511987654321;;1;;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;;;answered;agent;agente-7;dialing 02/12/2026 14:05:00 | answered 02/12/2026 14:05:00 | ended 02/12/2026 14:05:01;"{""ivr"": {""keys"": ""12"", ""flowName"": ""Cobrança""}, ""talkMs"": 35000}";dc:g:1',
      '2;02/12/2026 23:59:59;;;whatsapp;outbound;template_message;\'+5511987654321;;;;;;;;"\'=HYPERLINK(""http://evil"")";system;;accepted 02/12/2026 23:59:59 | read 03/12/2026 00:10:00;;"bm:s;1:""x"""',
      '3;02/12/2026 23:59:59;03/12/2026 00:00:01;1,3;mercadolivre;inbound;question;;;;comprador-9;;;;;\'@resposta;rule;"regra\n1";;"{""question"": ""Tem; em \\""azul\\""?""}";mlq:1',
      '4;04/12/2026 09:00:00;04/12/2026 09:20:34;1.234,0;voice;outbound;call;5511987654321;;1;;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;;;unknown;;;;;"dc:g;4"',
      '',
    ],
    iso: [
      '\uFEFFinteracao;inicio;fim;duracao_s;canal;direcao;tipo;telefone;contato_omni_id;contato_id;comprador_ml;campanha;campanha_id;envio_id;conta_ml_id;resultado;atendido_por_tipo;atendido_por;eventos;detalhes;chave_origem',
      '1;2026-12-02T17:05:00.123Z;2026-12-02T17:05:01.273Z;1.2;voice;outbound;call;5511987654321;;1;;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;;;answered;agent;agente-7;dialing 2026-12-02T17:05:00.123Z | answered 2026-12-02T17:05:00.123Z | ended 2026-12-02T17:05:01.273Z;"{""ivr"": {""keys"": ""12"", ""flowName"": ""Cobrança""}, ""talkMs"": 35000}";dc:g:1',
      '2;2026-12-03T02:59:59.999Z;;;whatsapp;outbound;template_message;\'+5511987654321;;;;;;;;"\'=HYPERLINK(""http://evil"")";system;;accepted 2026-12-03T02:59:59.999Z | read 2026-12-03T03:10:00.000Z;;"bm:s;1:""x"""',
      '3;2026-12-03T02:59:59.999Z;2026-12-03T03:00:01.249Z;1.3;mercadolivre;inbound;question;;;;comprador-9;;;;;\'@resposta;rule;"regra\n1";;"{""question"": ""Tem; em \\""azul\\""?""}";mlq:1',
      '4;2026-12-04T12:00:00.500Z;2026-12-04T12:20:34.500Z;1234.0;voice;outbound;call;5511987654321;;1;;"Cobrança ""Dez""; 2026";00000000-0000-0000-0000-0000000000c1;;;unknown;;;;;"dc:g;4"',
      '',
    ],
  },
};
