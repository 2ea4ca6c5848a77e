export * from './api';
export * from './changes';
export * from './home';
export * from './incidents';
export * from './incident-rhythm';
export * from './slack';
export * from './jobs';
export * from './sprints';
